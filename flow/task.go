package flow

import (
	"fmt"
	"log/slog"
	"math"
	"time"

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
	// sendAppended writes a record whose value is encode(buf, value),
	// buf being an empty buffer of the output's, which it may reuse once
	// the record is written. An error of encode is returned as it is.
	sendAppended(topic string, partition int32, key []byte, encode appendFunc, value any, ts int64, headers []kgo.RecordHeader) error
	// partitions returns a topic's partition count.
	partitions(topic string) (int, error)
	// global returns the store of a global table.
	global(name string) (*store.KeyValue, error)
}

// taskID names a task: a sub-topology and the partition of its input
// topics it processes.
type taskID struct {
	sub       int
	partition int32
}

func (id taskID) String() string { return fmt.Sprintf("%d_%d", id.sub, id.partition) }

// task runs one sub-topology on one partition of its input topics: the
// operators' processors, its stores and its watermark.
type task struct {
	id    taskID
	appID string
	top   *Topology
	procs []procFunc // by node id; nil outside the sub-topology
	out   output
	db    *store.DB
	// mem holds the stores kept in memory (InMemory), when there are
	// any.
	mem    *store.DB
	stores map[string]*taskStore
	logger *slog.Logger
	// sources maps the full names of the task's input topics to their
	// source nodes.
	sources map[string]*node
	// current is the record being processed (nil in a timer); input
	// holds the input record it points to, so that pointing to it
	// allocates nothing.
	current *rec
	input   rec

	// inputs are the event times of the task's input partitions, by
	// topic, from each partition's first record on; inputList holds the
	// same, for the watermark's per-record walk. watermark is the task's
	// event-time watermark (ms, math.MinInt64 before any record), which
	// only grows.
	inputs    map[string]*inputTime
	inputList []*inputTime
	watermark int64
	// last is the input topic of the last record, with its source and
	// event time: records come in runs of one partition.
	last struct {
		topic  string
		source *node
		input  *inputTime
	}
	// idle is how long an input partition may go without records before
	// it stops holding the watermark back; now is the wall clock.
	idle time.Duration
	now  func() time.Time
	// onWatermark are the operators' reactions to the watermark passing
	// a time (closing windows, event-time timers); onWallClock to the
	// wall clock's ticks (processing-time timers).
	onWatermark []func(t *task, watermark int64) error
	onWallClock []func(t *task, now time.Time) error
	// late counts records dropped because every window they belong to
	// had closed.
	late int64
	// metrics are the task's series (nil: none).
	metrics *taskMetrics
	// timersDue is set when an event-time timer is set at or before the
	// watermark: the next advance fires it even if the watermark stays.
	timersDue bool
}

// inputTime is an input partition's progress: the highest event time
// read from it and when the last record came (wall clock).
type inputTime struct {
	max  int64
	seen time.Time
}

// newTask builds the processors of sub-topology id.sub and opens its
// stores in db, restored by the caller.
func newTask(top *Topology, appID string, id taskID, db *store.DB, out output, clock taskClock, logger *slog.Logger) (*task, error) {
	t := &task{id: id, appID: appID, top: top, procs: make([]procFunc, len(top.nodes)), out: out, db: db,
		stores: make(map[string]*taskStore), logger: logger, sources: make(map[string]*node),
		inputs: make(map[string]*inputTime), watermark: math.MinInt64, idle: clock.idle, now: clock.now}
	for _, def := range top.storesOf(id.sub) {
		if def.inMemory && t.mem == nil {
			mem, err := store.Open("", store.Options{Logger: logger})
			if err != nil {
				return nil, fmt.Errorf("task %s: open in-memory stores: %w", id, err)
			}
			t.mem = mem
		}
		s, err := openStore(t, def)
		if err != nil {
			t.closeMem()
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

// close closes the task's stores.
func (t *task) close() error {
	err := t.db.Close()
	t.closeMem()
	return err
}

// closeMem drops the in-memory stores.
func (t *task) closeMem() {
	if t.mem != nil {
		t.mem.Close()
		t.mem = nil
	}
}

// taskClock is the wall clock of tasks and the idleness timeout of their
// input partitions.
type taskClock struct {
	now  func() time.Time
	idle time.Duration
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
	p := t.procs[n.id]
	if p == nil {
		return nil
	}
	if t.metrics != nil {
		if done := t.metrics.processed(t, n, r); done != nil {
			defer done()
		}
	}
	return p(t, r)
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

// sendAppended writes a record of r's time and headers whose value is
// r's, appended to a buffer by encode.
func (t *task) sendAppended(topic string, internal bool, partition int32, key []byte, encode appendFunc, r rec) error {
	return t.out.sendAppended(t.topicName(topic, internal), partition, key, encode, r.value, r.ts, r.headers)
}

// An appendFunc appends the encoding of a record's value to dst.
type appendFunc func(dst []byte, v any) ([]byte, error)

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

// processInput decodes a record of one of the task's input topics and
// processes it. Decoding errors and panics of the operators are errors
// of the record (errRecord), for the error policy.
func (t *task) processInput(topic string, key, value []byte, ts int64, headers []kgo.RecordHeader) (err error) {
	if topic != t.last.topic || t.last.source == nil {
		n := t.sources[topic]
		if n == nil {
			return fmt.Errorf("flow: task %s has no source for topic %s", t.id, topic)
		}
		t.last.topic, t.last.source, t.last.input = topic, n, t.inputs[topic]
	}
	n := t.last.source
	k, v, err := n.decode(key, value)
	if err != nil {
		return &recordError{err: err}
	}
	if n.extract != nil {
		ts = n.extract(k, v, ts)
	}
	in := t.last.input
	if in == nil {
		in = &inputTime{max: math.MinInt64}
		t.inputs[topic] = in
		t.inputList = append(t.inputList, in)
		t.last.input = in
	}
	in.max, in.seen = max(in.max, ts), t.now()
	defer func() {
		t.current = nil
		if p := recover(); p != nil {
			err = &recordError{err: fmt.Errorf("panic: %v", p)}
		}
	}()
	t.input = rec{key: k, value: v, ts: ts, headers: headers}
	t.current = &t.input
	if err := t.process(n, t.input); err != nil {
		return err
	}
	t.current = nil
	return t.advance()
}

// advance recomputes the watermark: the lowest of the input partitions'
// highest event times, leaving out those idle longer than t.idle (unless
// all are). When it grows, the operators' watermark reactions run.
func (t *task) advance() error {
	now := t.now()
	wm, active := int64(math.MaxInt64), false
	for _, in := range t.inputList {
		if t.idle > 0 && now.Sub(in.seen) > t.idle {
			continue
		}
		wm, active = min(wm, in.max), true
	}
	if !active {
		wm = math.MinInt64
		for _, in := range t.inputList {
			wm = max(wm, in.max)
		}
	}
	if wm <= t.watermark && !t.timersDue {
		return nil
	}
	return t.raiseWatermark(wm)
}

// raiseWatermark sets the watermark to wm (unless it is higher already)
// and runs the operators' watermark reactions.
func (t *task) raiseWatermark(wm int64) error {
	t.watermark, t.timersDue = max(t.watermark, wm), false
	for _, f := range t.onWatermark {
		if err := f(t, t.watermark); err != nil {
			return err
		}
	}
	if t.metrics != nil {
		t.metrics.advanced(t)
	}
	return nil
}

// endInput ends the task's input (batch mode, TestDriver.EndInput): the
// watermark goes to the end of time, math.MaxInt64, so that every window
// closes, stream-stream join buffers expire and event-time timers fire,
// as Flink's bounded sources end with a last watermark. A panic of an
// operator is an error.
func (t *task) endInput() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("flow: task %s: panic: %v", t.id, p)
		}
	}()
	if t.watermark == math.MaxInt64 && !t.timersDue {
		return nil
	}
	return t.raiseWatermark(math.MaxInt64)
}

// tick runs the wall clock's reactions and lets idle inputs stop holding
// the watermark back. A panic of an operator is an error.
func (t *task) tick() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("flow: task %s: panic: %v", t.id, p)
		}
	}()
	now := t.now()
	if t.metrics != nil {
		// Late records are reported here too: the watermark may not
		// move for a while after them.
		t.metrics.advanced(t)
	}
	for _, f := range t.onWallClock {
		if err := f(t, now); err != nil {
			return err
		}
	}
	return t.advance()
}

// recordError is an error of one input record (it cannot be decoded, or
// an operator panicked on it), which the error policy handles.
type recordError struct{ err error }

func (e *recordError) Error() string { return e.err.Error() }
func (e *recordError) Unwrap() error { return e.err }
