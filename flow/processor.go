package flow

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Record is a record as a Processor sees and forwards it.
type Record[K, V any] struct {
	Key   K
	Value V
	// Time is the record's event time. A record forwarded with a zero
	// Time takes that of the record being processed, or of the timer
	// firing.
	Time    time.Time
	Headers []kgo.RecordHeader
}

// TimeDomain says which clock a timer follows.
type TimeDomain uint8

const (
	// EventTime timers fire when the task's watermark reaches their
	// time: they follow the data, so reprocessing fires them alike.
	EventTime TimeDomain = iota
	// ProcessingTime timers fire when the wall clock reaches their time,
	// whether or not records come: they react to the absence of data.
	ProcessingTime
)

func (d TimeDomain) String() string {
	if d == ProcessingTime {
		return "processing-time"
	}
	return "event-time"
}

// Timer is a timer that fired: the key it was set for, its time and its
// domain.
type Timer[K any] struct {
	Key    K
	Time   time.Time
	Domain TimeDomain
}

// Processor is an operator written by hand (Kafka Streams' Processor API):
// it sees each record of its stream, reads and writes the stores attached
// to it, forwards any records it likes downstream and sets timers, which
// call OnTimer when they come due. A Processor is built per task (one per
// input partition) and used by one goroutine.
type Processor[K, V, KO, VO any] interface {
	// Process handles a record.
	Process(ctx *ProcessorContext[K, KO, VO], r Record[K, V]) error
	// OnTimer handles a timer that came due; it was deleted before the
	// call, and may be set again.
	OnTimer(ctx *ProcessorContext[K, KO, VO], t Timer[K]) error
}

// ProcessorContext is what a Processor can do besides returning: forward
// records, set timers, use its stores, tell the time.
type ProcessorContext[K, KO, VO any] struct {
	tk     *task
	n      *node
	timers *timerService[K]
	// ts is the event time of the record being processed or the timer
	// firing: the time of forwarded records that give none.
	ts int64
}

// Forward sends a record to the operators downstream.
func (c *ProcessorContext[K, KO, VO]) Forward(r Record[KO, VO]) error {
	ts := c.ts
	if !r.Time.IsZero() {
		ts = r.Time.UnixMilli()
	}
	return c.tk.forward(c.n, rec{key: r.Key, value: r.Value, ts: ts, headers: r.Headers})
}

// Watermark returns the task's event-time watermark: the time up to which
// its input is taken to be complete (the zero time before any record).
func (c *ProcessorContext[K, KO, VO]) Watermark() time.Time {
	if c.tk.watermark == math.MinInt64 {
		return time.Time{}
	}
	return time.UnixMilli(c.tk.watermark)
}

// Now returns the wall clock as read when the records being processed
// were polled (the test driver's, under a TestDriver): it is read once a
// poll, as Kafka Streams reads it once a loop.
func (c *ProcessorContext[K, KO, VO]) Now() time.Time { return c.tk.now() }

// Partition returns the partition of the task's input topics this
// processor works on.
func (c *ProcessorContext[K, KO, VO]) Partition() int32 { return c.tk.id.partition }

// SetTimer sets a timer for key at a time, in a domain: OnTimer is called
// once the watermark (EventTime) or the wall clock (ProcessingTime)
// reaches it, in the order of the timers' times. Timers are kept in a
// store backed by a changelog, so they survive restarts and move with
// their task. Setting a timer that is set does nothing; a timer at or
// before the present fires at the next watermark advance or wall-clock
// tick.
func (c *ProcessorContext[K, KO, VO]) SetTimer(d TimeDomain, key K, at time.Time) error {
	return c.timers.set(d, key, at.UnixMilli())
}

// DeleteTimer deletes a timer set for key at a time; deleting one that is
// not set does nothing.
func (c *ProcessorContext[K, KO, VO]) DeleteTimer(d TimeDomain, key K, at time.Time) error {
	return c.timers.remove(d, key, at.UnixMilli())
}

// storeOf implements StoreContext.
func (c *ProcessorContext[K, KO, VO]) storeOf(name string) (*taskStore, error) {
	if !slices.Contains(c.n.stores, name) {
		return nil, fmt.Errorf("flow: processor %s uses store %s, which is not attached to it (WithStores)", c.n.name, name)
	}
	return c.tk.stores[name], nil
}

// Process runs a Processor over the stream; newProcessor builds one per
// task. What it forwards is a stream of KO and VO; since it may change
// keys, grouping or joining that stream repartitions it first. Timers need
// the stream's key codec.
//
// Process itself does not repartition its input, as Kafka Streams'
// process does not: a processor that keeps state or timers by key, after
// an operator that changed the keys (SelectKey, Map, FlatMap, another
// Process), must see each key in one task, so call Repartition first. Options: Named (the processor, and its timer
// store "<name>-timers"), WithStores (the stores it uses), WithKeyCodec
// and WithValueCodec (of what it forwards).
func Process[K, V, KO, VO any](s Stream[K, V], newProcessor func() Processor[K, V, KO, VO], opts ...Option) Stream[KO, VO] {
	o := collect(opts)
	t := s.t
	n := t.add(kindProcessor, o.name, []*node{s.n}, nil)
	n.timed = true // its timers fire with the watermark and the wall clock
	timerStore := n.name + "-timers"
	t.addStore(timerStore, keyValueStore, true)
	n.stores = append(append(n.stores, timerStore), o.stores...)
	kc := s.kc
	n.newProc = func(tk *task, n *node) (procFunc, error) {
		p := newProcessor()
		ctx := &ProcessorContext[K, KO, VO]{tk: tk, n: n}
		ts, err := newTimerService(tk, tk.stores[timerStore], kc, func(tm Timer[K]) error {
			ctx.ts = tm.Time.UnixMilli()
			return p.OnTimer(ctx, tm)
		})
		if err != nil {
			return nil, err
		}
		ctx.timers = ts
		return func(tk *task, r rec) error {
			ctx.ts = r.ts
			return p.Process(ctx, Record[K, V]{Key: as[K](r.key), Value: as[V](r.value), Time: time.UnixMilli(r.ts), Headers: r.headers})
		}, nil
	}
	return Stream[KO, VO]{t: t, n: n, keyChanged: true,
		kc: codecOf[KO](t, o.keyCodec, nil, "key"), vc: codecOf[VO](t, o.valueCodec, nil, "value")}
}

// WithStores attaches stores declared with NewKeyValueStore to a Process
// operator, which may then use them.
func WithStores(stores ...StoreRef) Option {
	return optionFunc(func(o *options) {
		for _, s := range stores {
			o.stores = append(o.stores, s.StoreName())
		}
	})
}
