package flow

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/flow/store"
)

// rec is a record inside a task: its key and value as the operators see
// them (typed values, boxed), its event time and headers.
type rec struct {
	key, value any
	ts         int64 // event time, ms
	headers    []kgo.RecordHeader
}

// output is where a task's records go: a producer (in a transaction under
// exactly-once) or the test driver's topics. Topics are full names.
type output interface {
	// send writes a record to a topic's partition (-1: by the key's
	// hash).
	send(topic string, partition int32, key, value []byte, ts int64, headers []kgo.RecordHeader) error
	// partitions returns a topic's partition count.
	partitions(topic string) (int, error)
}

// taskID names a task: a sub-topology and the partition of its input
// topics it processes.
type taskID struct {
	sub       int
	partition int32
}

func (id taskID) String() string { return fmt.Sprintf("%d_%d", id.sub, id.partition) }

// task runs one sub-topology on one partition of its input topics: the
// operators' processors, its stores and its stream time.
type task struct {
	id     taskID
	appID  string
	top    *Topology
	procs  []procFunc // by node id; nil outside the sub-topology
	out    output
	db     *store.DB
	stores map[string]*kvStore
	logger *slog.Logger
	// streamTime is the highest event time the task has seen (ms), -1
	// before the first record.
	streamTime int64
	// sources maps the full names of the task's input topics to their
	// source nodes.
	sources map[string]*node
	// keyPartitioner hashes keys as Kafka's producers do.
	keyPartitioner kgo.TopicPartitioner
}

// newTask builds the processors of sub-topology id.sub and opens its
// stores in db, restored by the caller.
func newTask(top *Topology, appID string, id taskID, db *store.DB, out output, logger *slog.Logger) (*task, error) {
	t := &task{id: id, appID: appID, top: top, procs: make([]procFunc, len(top.nodes)), out: out, db: db,
		stores: make(map[string]*kvStore), logger: logger, streamTime: -1, sources: make(map[string]*node),
		keyPartitioner: kgo.StickyKeyPartitioner(nil).ForTopic("")}
	for _, def := range top.storesOf(id.sub) {
		s, err := openKV(t, def)
		if err != nil {
			return nil, fmt.Errorf("task %s: open store %s: %w", id, def.name, err)
		}
		t.stores[def.name] = s
	}
	for _, n := range top.nodes {
		if n.sub != id.sub {
			continue
		}
		if n.newProc != nil {
			p, err := n.newProc(t, n)
			if err != nil {
				return nil, fmt.Errorf("task %s: operator %s: %w", id, n.name, err)
			}
			t.procs[n.id] = p
		}
		for _, topic := range n.topics {
			t.sources[t.topicName(topic, n.repartition)] = n
		}
	}
	return t, nil
}

// topicName is the full name of a topic: internal topics are prefixed
// with the application id.
func (t *task) topicName(topic string, internal bool) string {
	if internal {
		return RepartitionTopic(t.appID, topic)
	}
	return topic
}

// process runs node n's processor on r.
func (t *task) process(n *node, r rec) error {
	if p := t.procs[n.id]; p != nil {
		return p(t, r)
	}
	return nil
}

// forward hands r to every child of n.
func (t *task) forward(n *node, r rec) error {
	for _, c := range n.children {
		if err := t.process(c, r); err != nil {
			return err
		}
	}
	return nil
}

// send writes a record to a topic (internal: a repartition topic's short
// name), at partition (-1: by key).
func (t *task) send(topic string, internal bool, partition int32, key, value []byte, r rec) error {
	return t.out.send(t.topicName(topic, internal), partition, key, value, r.ts, r.headers)
}

// partitionOf applies a sink's partitioner.
func (t *task) partitionOf(topic string, r rec, f func(k, v any, n int) int) int32 {
	n, err := t.out.partitions(topic)
	if err != nil || n <= 0 {
		return -1
	}
	p := f(r.key, r.value, n)
	if p < 0 || p >= n {
		return -1
	}
	return int32(p)
}

// errSkipped: a record the error policy skipped.
var errSkipped = errors.New("flow: record skipped")

// processInput decodes a record of one of the task's input topics and
// processes it. Decoding errors and panics of the operators are errors
// of the record (errRecord), for the error policy.
func (t *task) processInput(topic string, key, value []byte, ts int64, headers []kgo.RecordHeader) (err error) {
	n := t.sources[topic]
	if n == nil {
		return fmt.Errorf("flow: task %s has no source for topic %s", t.id, topic)
	}
	k, v, err := n.decode(key, value)
	if err != nil {
		return &recordError{err: err}
	}
	if n.extract != nil {
		ts = n.extract(k, v, ts)
	}
	if ts > t.streamTime {
		t.streamTime = ts
	}
	defer func() {
		if p := recover(); p != nil {
			err = &recordError{err: fmt.Errorf("panic: %v", p)}
		}
	}()
	return t.process(n, rec{key: k, value: v, ts: ts, headers: headers})
}

// recordError is an error of one input record (it cannot be decoded, or
// an operator panicked on it), which the error policy handles.
type recordError struct{ err error }

func (e *recordError) Error() string { return e.err.Error() }
func (e *recordError) Unwrap() error { return e.err }
