package flow

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/flow/store"
)

// TestDriver runs a topology in memory, without a broker, for unit tests
// of an application (Kafka Streams' TopologyTestDriver): records piped
// into its input topics are processed at once, one after the other, and
// what the topology writes can be read back. Every topic has one
// partition, so there is one task per sub-topology; records written to
// repartition topics (and to topics the topology reads) are processed
// right after the record that caused them. Stores are kept in memory.
type TestDriver struct {
	top    *Topology
	appID  string
	tasks  []*task // by sub-topology
	dbs    []*store.DB
	policy ErrorPolicy
	logger *slog.Logger
	// readers maps each topic the topology reads (full names) to its
	// sub-topology.
	readers map[string]int
	// written holds every record written to each topic, in order;
	// read is how many of them TestOutput has read.
	written map[string][]TestRecord
	read    map[string]int
	// queue holds the records written to topics the topology reads,
	// waiting to be processed.
	queue []TestRecord
	// clock is the driver's wall clock, which only AdvanceWallClock
	// moves.
	clock time.Time
	// globals are the global tables, updated as soon as a record of
	// their topics is piped or written.
	globals *globalStores
}

func (d *TestDriver) wallClock() time.Time { return d.clock }

// AdvanceWallClock moves the driver's wall clock forward: processing-time
// timers that come due fire, and input partitions idle longer than the
// idleness timeout stop holding the watermark back (windows close, event
// time timers fire). What they cause is processed before it returns.
func (d *TestDriver) AdvanceWallClock(by time.Duration) error {
	d.clock = d.clock.Add(by)
	for _, t := range d.tasks {
		if err := t.tick(); err != nil {
			return err
		}
		if err := t.flushStores(); err != nil {
			return err
		}
	}
	return d.drain()
}

// EndInput ends the driver's input, as the end of a batch run
// (Config.Batch) does: each sub-topology's watermark goes to the end of
// time, so that every window closes (EmitFinal results are emitted),
// stream-stream join buffers expire (unmatched records of left and outer
// joins are emitted) and event-time timers fire. A repartition topic
// ends as in a batch run: once its writer has finished, or sooner when
// no record can reach it any more and no timed operator is above it
// (batch.go); a sub-topology finishes once its inputs have ended. What
// each step causes is processed before the next, so a foreign-key join
// ends its left side's input, then its right side, then the left side.
// Records piped afterwards are late for every window. Topologies whose
// repartition topics wait for each other's end in a cycle cannot end.
func (d *TestDriver) EndInput() error {
	graph := newBatchGraph(d.top, d.appID)
	if graph.cycle {
		return errors.New("flow: EndInput: repartition topics wait for each other's end in a cycle")
	}
	// The queue is empty: everything written to a topic has been
	// processed, so a topic ends as soon as its markers would be written.
	ended := map[string]bool{}
	for topic := range d.readers {
		if _, repartition := graph.writer[topic]; !repartition {
			ended[topic] = true
		}
	}
	isEnded := func(topic string) bool { return ended[topic] }
	finished := make([]bool, len(d.tasks))
	for progress := true; progress; {
		progress = false
		for sub, t := range d.tasks {
			if finished[sub] {
				continue
			}
			for _, topic := range graph.writes[sub] {
				if !ended[topic] && graph.endsEarly(topic, isEnded) {
					ended[topic], progress = true, true
				}
			}
			if !allEnded(graph.inputs[sub], isEnded) {
				continue
			}
			if err := d.finish(t); err != nil {
				return err
			}
			for _, topic := range graph.writes[sub] {
				ended[topic] = true
			}
			finished[sub], progress = true, true
		}
	}
	if i := slices.Index(finished, false); i >= 0 {
		return fmt.Errorf("flow: EndInput: sub-topology %d cannot end", i) // a broken invariant: no cycle
	}
	return nil
}

// finish ends a task's input and processes what that causes.
func (d *TestDriver) finish(t *task) error {
	if err := t.endInput(); err != nil {
		return err
	}
	if err := t.flushStores(); err != nil {
		return err
	}
	return d.drain()
}

// TestRecord is a record as the test driver holds it.
type TestRecord struct {
	Topic      string
	Key, Value []byte
	Timestamp  time.Time
	Headers    []kgo.RecordHeader
}

// TestConfig configures a TestDriver; every field is optional.
type TestConfig struct {
	// ApplicationID prefixes internal topics ("test" when empty).
	ApplicationID string
	// OnError handles records that cannot be processed (default: Pipe
	// returns the error).
	OnError ErrorPolicy
	// Logger receives the logs (none when nil).
	Logger *slog.Logger
	// IdleTimeout is Config.IdleTimeout (DefaultIdleTimeout when zero),
	// measured on the driver's wall clock.
	IdleTimeout time.Duration
}

// NewTestDriver builds the topology's tasks with in-memory stores.
func NewTestDriver(top *Topology, cfg TestConfig) (*TestDriver, error) {
	if err := top.build(); err != nil {
		return nil, err
	}
	if cfg.ApplicationID == "" {
		cfg.ApplicationID = "test"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	d := &TestDriver{top: top, appID: cfg.ApplicationID, policy: cfg.OnError, logger: cfg.Logger, clock: time.Unix(0, 0),
		readers: make(map[string]int), written: make(map[string][]TestRecord), read: make(map[string]int)}
	var err error
	if d.globals, err = openGlobalStores(top, "", store.Options{Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	for sub := range top.subTopologies() {
		db, err := store.Open("", store.Options{Logger: cfg.Logger})
		if err != nil {
			d.Close()
			return nil, err
		}
		d.dbs = append(d.dbs, db)
		t, err := newTask(top, d.appID, taskID{sub: sub}, db, driverOutput{d}, taskClock{now: d.wallClock, idle: cfg.IdleTimeout}, cfg.Logger)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.tasks = append(d.tasks, t)
		for topic := range t.sources {
			d.readers[topic] = sub
		}
	}
	return d, nil
}

// Close releases the stores.
func (d *TestDriver) Close() error {
	var errs []error
	for _, t := range d.tasks {
		t.closeMem()
	}
	for _, db := range d.dbs {
		errs = append(errs, db.Close())
	}
	d.dbs = nil
	errs = append(errs, d.globals.close())
	d.globals = nil
	return errors.Join(errs...)
}

// Pipe processes a record of an input topic, then every record it caused
// on the topology's other inputs (repartition topics), until none is
// left.
func (d *TestDriver) Pipe(topic string, key, value []byte, ts time.Time, headers ...kgo.RecordHeader) error {
	if d.globals != nil && d.globals.topics[topic] != nil {
		return d.globals.apply(topic, key, value)
	}
	if _, ok := d.readers[topic]; !ok {
		return fmt.Errorf("flow: the topology does not read topic %s", topic)
	}
	d.queue = append(d.queue, TestRecord{Topic: topic, Key: key, Value: value, Timestamp: ts, Headers: headers})
	return d.drain()
}

// drain processes the queued records, and those they cause, until none is
// left.
func (d *TestDriver) drain() error {
	for len(d.queue) > 0 {
		r := d.queue[0]
		d.queue = d.queue[1:]
		t := d.tasks[d.readers[r.Topic]]
		// Each record is committed on its own, as in Kafka Streams'
		// TopologyTestDriver: cached store writes reach the stores
		// and changelogs after it.
		err := t.processInput(r.Topic, r.Key, r.Value, r.Timestamp.UnixMilli(), r.Headers)
		if err == nil {
			err = t.flushStores()
		}
		if err := d.handle(r, err); err != nil {
			d.queue = nil
			return err
		}
	}
	return nil
}

// handle applies the error policy to a record's error.
func (d *TestDriver) handle(r TestRecord, err error) error {
	var re *recordError
	if err == nil || !errors.As(err, &re) {
		return err
	}
	switch {
	case d.policy.DeadLetterTopic != "":
		headers := append(slices.Clone(r.Headers), deadLetterHeaders(err, r.Topic, 0, -1)...)
		d.written[d.policy.DeadLetterTopic] = append(d.written[d.policy.DeadLetterTopic],
			TestRecord{Topic: d.policy.DeadLetterTopic, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp, Headers: headers})
		return nil
	case d.policy.Skip:
		d.logger.Warn("skipping a record that cannot be processed", "topic", r.Topic, "err", err)
		return nil
	}
	return err
}

// deadLetterHeaders are the headers added to a record sent to the dead
// letter topic.
func deadLetterHeaders(err error, topic string, partition int32, offset int64) []kgo.RecordHeader {
	return []kgo.RecordHeader{
		{Key: "flow.error", Value: []byte(err.Error())},
		{Key: "flow.topic", Value: []byte(topic)},
		{Key: "flow.partition", Value: []byte(strconv.Itoa(int(partition)))},
		{Key: "flow.offset", Value: []byte(strconv.FormatInt(offset, 10))},
	}
}

// Records returns every record written to a topic so far (its full name:
// changelog and repartition topics start with the application id).
func (d *TestDriver) Records(topic string) []TestRecord { return slices.Clone(d.written[topic]) }

// driverOutput is the test driver as the tasks' output.
type driverOutput struct{ d *TestDriver }

func (o driverOutput) send(topic string, _ int32, key, value []byte, ts int64, headers []kgo.RecordHeader) error {
	r := TestRecord{Topic: topic, Key: key, Value: value, Timestamp: time.UnixMilli(ts), Headers: headers}
	o.d.written[topic] = append(o.d.written[topic], r)
	if o.d.globals != nil && o.d.globals.topics[topic] != nil {
		return o.d.globals.apply(topic, key, value)
	}
	if _, ok := o.d.readers[topic]; ok {
		o.d.queue = append(o.d.queue, r)
	}
	return nil
}

func (o driverOutput) sendAppended(topic string, partition int32, key []byte, encode appendFunc, value any, ts int64, headers []kgo.RecordHeader) error {
	b, err := encode(nil, value)
	if err != nil {
		return err
	}
	return o.send(topic, partition, key, b, ts, headers)
}

func (driverOutput) partitions(string) (int, error) { return 1, nil }

func (o driverOutput) global(name string) (*store.KeyValue, error) { return o.d.globals.get(name) }

// TestInput pipes typed records into a topic of a TestDriver.
type TestInput[K, V any] struct {
	d     *TestDriver
	topic string
	kc    Codec[K]
	vc    Codec[V]
}

// Input returns a typed input to a topic of the driver.
func Input[K, V any](d *TestDriver, topic string, kc Codec[K], vc Codec[V]) TestInput[K, V] {
	return TestInput[K, V]{d: d, topic: topic, kc: kc, vc: vc}
}

// Pipe encodes and processes a record with event time ts.
func (in TestInput[K, V]) Pipe(key K, value V, ts time.Time) error {
	k, err := in.kc.Encode(key)
	if err != nil {
		return err
	}
	v, err := in.vc.Encode(value)
	if err != nil {
		return err
	}
	return in.d.Pipe(in.topic, k, v, ts)
}

// Delete processes a record with a null value (a tombstone, which
// deletes the key from a table).
func (in TestInput[K, V]) Delete(key K, ts time.Time) error {
	k, err := in.kc.Encode(key)
	if err != nil {
		return err
	}
	return in.d.Pipe(in.topic, k, nil, ts)
}

// TestOutput reads typed records a TestDriver's topology wrote to a topic.
type TestOutput[K, V any] struct {
	d     *TestDriver
	topic string
	kc    Codec[K]
	vc    Codec[V]
}

// Output returns a typed reader of a topic of the driver.
func Output[K, V any](d *TestDriver, topic string, kc Codec[K], vc Codec[V]) TestOutput[K, V] {
	return TestOutput[K, V]{d: d, topic: topic, kc: kc, vc: vc}
}

// TestOutputRecord is a decoded record of a TestOutput; Deleted marks a
// tombstone (a null value).
type TestOutputRecord[K, V any] struct {
	Key       K
	Value     V
	Deleted   bool
	Timestamp time.Time
	Headers   []kgo.RecordHeader
}

// Read returns the records written to the topic since the last Read.
func (out TestOutput[K, V]) Read() ([]TestOutputRecord[K, V], error) {
	all := out.d.written[out.topic]
	from := out.d.read[out.topic]
	out.d.read[out.topic] = len(all)
	var recs []TestOutputRecord[K, V]
	for _, r := range all[from:] {
		k, err := out.kc.Decode(r.Key)
		if err != nil {
			return recs, fmt.Errorf("flow: decode a key of %s: %w", out.topic, err)
		}
		x := TestOutputRecord[K, V]{Key: k, Timestamp: r.Timestamp, Headers: r.Headers, Deleted: r.Value == nil}
		if r.Value != nil {
			if x.Value, err = out.vc.Decode(r.Value); err != nil {
				return recs, fmt.Errorf("flow: decode a value of %s: %w", out.topic, err)
			}
		}
		recs = append(recs, x)
	}
	return recs, nil
}

// ReadKeyValues returns the keys and values written to the topic since
// the last read (tombstones with zero values).
func (out TestOutput[K, V]) ReadKeyValues() ([]KeyValue[K, V], error) {
	recs, err := out.Read()
	kvs := make([]KeyValue[K, V], len(recs))
	for i, r := range recs {
		kvs[i] = KeyValue[K, V]{Key: r.Key, Value: r.Value}
	}
	return kvs, err
}
