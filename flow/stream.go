package flow

import (
	"fmt"
	"time"
)

// Stream is a record stream (Kafka Streams' KStream): every record is an
// event of its own, keyed by K with a value V. Streams come from Source
// and from the operators below; they carry the codecs of their keys and
// values where known (Codecs sets them), which sinks, repartitioning and
// stores need.
type Stream[K, V any] struct {
	t  *Topology
	n  *node
	kc Codec[K]
	vc Codec[V]
	// keyChanged is set when an operator may have changed the keys since
	// the source: grouping then repartitions first.
	keyChanged bool
}

// An Option adjusts an operator: its name, codecs, partitions or
// partitioner, a source's timestamps.
type Option interface{ apply(*options) }

type options struct {
	name        string
	keyCodec    any
	valueCodec  any
	partitions  int32
	partitioner any
	timestamps  any
	inMemory    bool
	emitFinal   bool
	lateTopic   string
	stores      []string
	history     time.Duration
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

func collect(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

// Named names an operator, and so the stores and internal topics it
// creates: names keep an application's internal topics and state stable
// when its topology changes elsewhere.
func Named(name string) Option { return optionFunc(func(o *options) { o.name = name }) }

// WithKeyCodec gives the codec of the keys an operator outputs.
func WithKeyCodec[K any](c Codec[K]) Option { return optionFunc(func(o *options) { o.keyCodec = c }) }

// WithValueCodec gives the codec of the values an operator outputs (or,
// for an aggregation, of its aggregate).
func WithValueCodec[V any](c Codec[V]) Option {
	return optionFunc(func(o *options) { o.valueCodec = c })
}

// Partitions sets the number of partitions of a repartition topic; by
// default it has as many as the topics its records come from.
func Partitions(n int32) Option { return optionFunc(func(o *options) { o.partitions = n }) }

// InMemory keeps an operator's store in memory rather than on disk; it is
// still backed by its changelog topic.
func InMemory() Option { return optionFunc(func(o *options) { o.inMemory = true }) }

// Versioned keeps the values a table had over time (for history of event
// time, behind the latest update's time), so that a stream joined with it
// meets each key's value as of the stream record's time rather than its
// latest: reprocessing gives the same results, and out-of-order updates
// take their place in history. Option of TableOf.
func Versioned(history time.Duration) Option {
	return optionFunc(func(o *options) { o.history = history })
}

// Partitioner chooses the partition of each record a sink writes, among n;
// by default it is the murmur2 hash of the encoded key, as Kafka's
// producers choose it.
func Partitioner[K, V any](f func(key K, value V, n int) int) Option {
	return optionFunc(func(o *options) { o.partitioner = f })
}

// Timestamps gives the event time of a source's records, from the record
// and its timestamp in Kafka; by default the event time is that
// timestamp.
func Timestamps[K, V any](f func(key K, value V, recordTime time.Time) time.Time) Option {
	return optionFunc(func(o *options) { o.timestamps = f })
}

// codecOf returns the codec an option carries, or def; a codec of another
// type is a mistake recorded in the topology.
func codecOf[T any](t *Topology, c any, def Codec[T], what string) Codec[T] {
	if c == nil {
		return def
	}
	typed, ok := c.(Codec[T])
	if !ok {
		var zero T
		t.fail(fmt.Errorf("flow: the %s codec given is a %T, not a Codec[%T]", what, c, zero))
		return def
	}
	return typed
}

// as returns x as a T, the zero T when x is nil.
func as[T any](x any) T {
	v, _ := x.(T)
	return v
}

// Source reads a topic as a stream, its keys and values decoded with kc
// and vc. Options: Named, Timestamps.
func Source[K, V any](t *Topology, topic string, kc Codec[K], vc Codec[V], opts ...Option) Stream[K, V] {
	o := collect(opts)
	if kc == nil || vc == nil {
		t.fail(fmt.Errorf("flow: source %s: %w", topic, errNilCodec))
	}
	if _, dup := t.sources[topic]; dup {
		t.fail(fmt.Errorf("flow: topic %s is read by two sources", topic))
	}
	n := t.add(kindSource, o.name, nil, passThrough)
	n.topics = []string{topic}
	n.decode = decoder(kc, vc)
	n.extract = extractor[K, V](t, o, topic)
	t.sources[topic] = n
	return Stream[K, V]{t: t, n: n, kc: kc, vc: vc}
}

// extractor returns the event time extractor of a source's Timestamps
// option (nil: none).
func extractor[K, V any](t *Topology, o options, topic string) func(k, v any, recordTime int64) int64 {
	if o.timestamps == nil {
		return nil
	}
	f, ok := o.timestamps.(func(K, V, time.Time) time.Time)
	if !ok {
		t.fail(fmt.Errorf("flow: source %s: Timestamps takes a func(%T, %T, time.Time) time.Time", topic, *new(K), *new(V)))
		return nil
	}
	return func(k, v any, recordTime int64) int64 {
		return f(as[K](k), as[V](v), time.UnixMilli(recordTime)).UnixMilli()
	}
}

// decoder decodes a record's key and value; a nil key or value (null in
// Kafka) decodes to the zero value.
func decoder[K, V any](kc Codec[K], vc Codec[V]) func(key, value []byte) (any, any, error) {
	return func(key, value []byte) (any, any, error) {
		var k K
		var v V
		var err error
		if key != nil && kc != nil {
			if k, err = kc.Decode(key); err != nil {
				return nil, nil, fmt.Errorf("decode key: %w", err)
			}
		}
		if value != nil && vc != nil {
			if v, err = vc.Decode(value); err != nil {
				return nil, nil, fmt.Errorf("decode value: %w", err)
			}
		}
		return k, v, nil
	}
}

// passThrough forwards every record.
func passThrough(_ *task, n *node) (procFunc, error) {
	return func(t *task, r rec) error { return t.forward(n, r) }, nil
}

// derive returns a stream of the same types below node n.
func (s Stream[K, V]) derive(n *node) Stream[K, V] {
	return Stream[K, V]{t: s.t, n: n, kc: s.kc, vc: s.vc, keyChanged: s.keyChanged}
}

// Codecs returns the stream with the codecs of its keys and values set.
func (s Stream[K, V]) Codecs(kc Codec[K], vc Codec[V]) Stream[K, V] {
	s.kc, s.vc = kc, vc
	return s
}

// Filter keeps the records for which keep is true.
func (s Stream[K, V]) Filter(keep func(K, V) bool, opts ...Option) Stream[K, V] {
	o := collect(opts)
	return s.derive(s.t.add(kindFilter, o.name, []*node{s.n}, func(_ *task, n *node) (procFunc, error) {
		return func(t *task, r rec) error {
			if !keep(as[K](r.key), as[V](r.value)) {
				return nil
			}
			return t.forward(n, r)
		}, nil
	}))
}

// FilterNot drops the records for which drop is true.
func (s Stream[K, V]) FilterNot(drop func(K, V) bool, opts ...Option) Stream[K, V] {
	return s.Filter(func(k K, v V) bool { return !drop(k, v) }, opts...)
}

// Peek calls f with every record and forwards it unchanged.
func (s Stream[K, V]) Peek(f func(K, V), opts ...Option) Stream[K, V] {
	o := collect(opts)
	return s.derive(s.t.add(kindPeek, o.name, []*node{s.n}, func(_ *task, n *node) (procFunc, error) {
		return func(t *task, r rec) error {
			f(as[K](r.key), as[V](r.value))
			return t.forward(n, r)
		}, nil
	}))
}

// Branch splits the stream: each record goes to the stream of the first
// predicate it satisfies, and is dropped if it satisfies none.
func (s Stream[K, V]) Branch(preds ...func(K, V) bool) []Stream[K, V] {
	b := s.t.add(kindBranch, "", []*node{s.n}, nil)
	outs := make([]Stream[K, V], len(preds))
	branches := make([]*node, len(preds))
	for i := range preds {
		branches[i] = s.t.add(kindFilter, fmt.Sprintf("%s-%d", b.name, i), []*node{b}, passThrough)
		outs[i] = s.derive(branches[i])
	}
	b.newProc = func(_ *task, _ *node) (procFunc, error) {
		return func(t *task, r rec) error {
			k, v := as[K](r.key), as[V](r.value)
			for i, p := range preds {
				if p(k, v) {
					return t.process(branches[i], r)
				}
			}
			return nil
		}, nil
	}
	return outs
}

// Merge merges other streams of the same types into this one.
func (s Stream[K, V]) Merge(others ...Stream[K, V]) Stream[K, V] {
	parents := []*node{s.n}
	changed := s.keyChanged
	for _, o := range others {
		parents = append(parents, o.n)
		changed = changed || o.keyChanged
	}
	out := s.derive(s.t.add(kindMerge, "", parents, passThrough))
	out.keyChanged = changed
	return out
}

// Map replaces each record by f's key and value. Options: Named,
// WithKeyCodec, WithValueCodec (the output's codecs).
func Map[K, V, K2, V2 any](s Stream[K, V], f func(K, V) (K2, V2), opts ...Option) Stream[K2, V2] {
	o := collect(opts)
	n := s.t.add(kindMap, o.name, []*node{s.n}, func(_ *task, n *node) (procFunc, error) {
		return func(t *task, r rec) error {
			k, v := f(as[K](r.key), as[V](r.value))
			r.key, r.value = k, v
			return t.forward(n, r)
		}, nil
	})
	return Stream[K2, V2]{t: s.t, n: n, keyChanged: true,
		kc: codecOf[K2](s.t, o.keyCodec, nil, "key"), vc: codecOf[V2](s.t, o.valueCodec, nil, "value")}
}

// MapValues replaces each record's value by f's; keys are unchanged, so
// no repartitioning follows. Options: Named, WithValueCodec.
func MapValues[K, V, V2 any](s Stream[K, V], f func(K, V) V2, opts ...Option) Stream[K, V2] {
	o := collect(opts)
	n := s.t.add(kindMapValues, o.name, []*node{s.n}, func(_ *task, n *node) (procFunc, error) {
		return func(t *task, r rec) error {
			r.value = f(as[K](r.key), as[V](r.value))
			return t.forward(n, r)
		}, nil
	})
	return Stream[K, V2]{t: s.t, n: n, kc: s.kc, keyChanged: s.keyChanged,
		vc: codecOf[V2](s.t, o.valueCodec, nil, "value")}
}

// KeyValue is a key and a value.
type KeyValue[K, V any] struct {
	Key   K
	Value V
}

// FlatMap replaces each record by the records f returns (none, one or
// more), with its timestamp and headers. Options: Named, WithKeyCodec,
// WithValueCodec.
func FlatMap[K, V, K2, V2 any](s Stream[K, V], f func(K, V) []KeyValue[K2, V2], opts ...Option) Stream[K2, V2] {
	o := collect(opts)
	n := s.t.add(kindFlatMap, o.name, []*node{s.n}, func(_ *task, n *node) (procFunc, error) {
		return func(t *task, r rec) error {
			for _, kv := range f(as[K](r.key), as[V](r.value)) {
				out := r
				out.key, out.value = kv.Key, kv.Value
				if err := t.forward(n, out); err != nil {
					return err
				}
			}
			return nil
		}, nil
	})
	return Stream[K2, V2]{t: s.t, n: n, keyChanged: true,
		kc: codecOf[K2](s.t, o.keyCodec, nil, "key"), vc: codecOf[V2](s.t, o.valueCodec, nil, "value")}
}

// FlatMapValues replaces each record by one record per value f returns,
// with the same key. Options: Named, WithValueCodec.
func FlatMapValues[K, V, V2 any](s Stream[K, V], f func(K, V) []V2, opts ...Option) Stream[K, V2] {
	o := collect(opts)
	n := s.t.add(kindFlatMap, o.name, []*node{s.n}, func(_ *task, n *node) (procFunc, error) {
		return func(t *task, r rec) error {
			for _, v := range f(as[K](r.key), as[V](r.value)) {
				out := r
				out.value = v
				if err := t.forward(n, out); err != nil {
					return err
				}
			}
			return nil
		}, nil
	})
	return Stream[K, V2]{t: s.t, n: n, kc: s.kc, keyChanged: s.keyChanged,
		vc: codecOf[V2](s.t, o.valueCodec, nil, "value")}
}

// SelectKey replaces each record's key by f's. Options: Named,
// WithKeyCodec.
func SelectKey[K, V, K2 any](s Stream[K, V], f func(K, V) K2, opts ...Option) Stream[K2, V] {
	o := collect(opts)
	n := s.t.add(kindSelectKey, o.name, []*node{s.n}, func(_ *task, n *node) (procFunc, error) {
		return func(t *task, r rec) error {
			r.key = f(as[K](r.key), as[V](r.value))
			return t.forward(n, r)
		}, nil
	})
	return Stream[K2, V]{t: s.t, n: n, vc: s.vc, keyChanged: true,
		kc: codecOf[K2](s.t, o.keyCodec, nil, "key")}
}

// To writes the stream to a topic, keys and values encoded with the
// stream's codecs. Options: Named, Partitioner.
func (s Stream[K, V]) To(topic string, opts ...Option) {
	o := collect(opts)
	if s.kc == nil || s.vc == nil {
		s.t.fail(fmt.Errorf("flow: sink %s: %w (Codecs, WithKeyCodec, WithValueCodec)", topic, errNilCodec))
	}
	var partition func(k, v any, n int) int
	if o.partitioner != nil {
		f, ok := o.partitioner.(func(K, V, int) int)
		if !ok {
			s.t.fail(fmt.Errorf("flow: sink %s: Partitioner takes a func(%T, %T, int) int", topic, *new(K), *new(V)))
		}
		partition = func(k, v any, n int) int { return f(as[K](k), as[V](v), n) }
	}
	kc, vc := s.kc, s.vc
	appendValue := valueAppender(vc, nil, "encode value for "+topic)
	n := s.t.add(kindSink, o.name, []*node{s.n}, func(_ *task, _ *node) (procFunc, error) {
		return func(t *task, r rec) error {
			key, err := kc.Encode(as[K](r.key))
			if err != nil {
				return fmt.Errorf("encode key for %s: %w", topic, err)
			}
			p := int32(-1)
			if partition != nil {
				p = t.partitionOf(topic, r, partition)
			}
			if appendValue != nil {
				return t.sendAppended(topic, false, p, key, appendValue, r)
			}
			value, err := vc.Encode(as[V](r.value))
			if err != nil {
				return fmt.Errorf("encode value for %s: %w", topic, err)
			}
			return t.send(topic, false, p, key, value, r)
		}, nil
	})
	n.sinkTopic = topic
}

// Repartition writes the stream to an internal topic
// ("<application id>-<name>-repartition") partitioned by key and reads it
// back: what follows runs in another sub-topology, on the partition its
// key hashes to. Options: Named, Partitions.
func (s Stream[K, V]) Repartition(opts ...Option) Stream[K, V] {
	o := collect(opts)
	out := repartition(s.t, s.n, o, s.kc, s.vc, func(v any) any { return v })
	r := s.derive(out)
	r.keyChanged = false
	return r
}

// valueAppender returns how a sink appends the encoding of a record's
// value (after conv, unless nil) to a buffer, its errors wrapped with
// what; nil if vc cannot append (Appender).
func valueAppender[V any](vc Codec[V], conv func(any) any, what string) appendFunc {
	f := appendEncoder(vc)
	if f == nil {
		return nil
	}
	return func(dst []byte, v any) ([]byte, error) {
		if conv != nil {
			v = conv(v)
		}
		b, err := f(dst, as[V](v))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return b, nil
	}
}

// repartition adds the sink and source of a repartition topic below
// parent, named after o.name (or the sink's generated name), and returns
// the source. Values are encoded with vc after conv.
func repartition[K, V any](t *Topology, parent *node, o options, kc Codec[K], vc Codec[V], conv func(any) any) *node {
	if kc == nil || vc == nil {
		t.fail(fmt.Errorf("flow: repartition after %s: %w (Codecs, WithKeyCodec, WithValueCodec)", parent.name, errNilCodec))
	}
	sink := t.add(kindRepartitionSink, o.name, []*node{parent}, nil)
	topic := sink.name
	sink.sinkTopic, sink.repartition, sink.partitions = topic, true, o.partitions
	appendValue := valueAppender(vc, conv, "encode value for repartition "+topic)
	sink.newProc = func(_ *task, _ *node) (procFunc, error) {
		return func(t *task, r rec) error {
			key, err := kc.Encode(as[K](r.key))
			if err != nil {
				return fmt.Errorf("encode key for repartition %s: %w", topic, err)
			}
			if appendValue != nil {
				return t.sendAppended(topic, true, -1, key, appendValue, r)
			}
			value, err := vc.Encode(as[V](conv(r.value)))
			if err != nil {
				return fmt.Errorf("encode value for repartition %s: %w", topic, err)
			}
			return t.send(topic, true, -1, key, value, r)
		}, nil
	}
	src := t.add(kindRepartitionSrc, topic+"-source", []*node{sink}, passThrough)
	src.topics, src.repartition = []string{topic}, true
	src.decode = decoder(kc, vc)
	t.sources[topic] = src
	return src
}
