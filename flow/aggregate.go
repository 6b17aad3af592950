package flow

import (
	"fmt"
)

// Grouped is a stream grouped by key, ready to aggregate: Count, Reduce,
// Aggregate. Records reach the aggregation on the partition of their key:
// if the keys may have changed since the source (Map, SelectKey, GroupBy
// ...), the stream is repartitioned first.
type Grouped[K, V any] struct {
	s Stream[K, V]
	o options
}

// GroupByKey groups the stream by its keys. Options: Named (the
// repartition topic's name, if one is needed), WithKeyCodec,
// WithValueCodec, Partitions.
func (s Stream[K, V]) GroupByKey(opts ...Option) Grouped[K, V] {
	o := collect(opts)
	s.kc = codecOf(s.t, o.keyCodec, s.kc, "key")
	s.vc = codecOf(s.t, o.valueCodec, s.vc, "value")
	if s.keyChanged {
		s = s.Repartition(opts...)
	}
	return Grouped[K, V]{s: s, o: o}
}

// GroupBy groups the stream by the key f gives each record: the stream
// is repartitioned by it. Options: as GroupByKey's; WithKeyCodec gives
// the new keys' codec.
func GroupBy[K, V, K2 any](s Stream[K, V], f func(K, V) K2, opts ...Option) Grouped[K2, V] {
	o := collect(opts)
	keyed := SelectKey(s, f, WithKeyCodec(codecOf[K2](s.t, o.keyCodec, nil, "key")))
	return keyed.GroupByKey(opts...)
}

// aggregateStore declares the store of an aggregation named name (or
// kind-<id> of its node) and returns the store's name.
func aggregateStore(t *Topology, n *node, o options) string {
	name := n.name
	if o.name != "" {
		name = o.name
	}
	def := t.addStore(name, keyValueStore, true)
	def.inMemory, def.cached = o.inMemory, true
	n.stores = append(n.stores, name)
	return name
}

// Count counts the records of each key. Options: Named (the operator and
// its store), InMemory.
func (g Grouped[K, V]) Count(opts ...Option) Table[K, int64] {
	return Aggregate(g, func() int64 { return 0 }, func(_ K, _ V, n int64) int64 { return n + 1 },
		append(opts, WithValueCodec(Int64()))...)
}

// Reduce combines the values of each key with f, the first value as it
// is. Options: Named, InMemory.
func (g Grouped[K, V]) Reduce(f func(agg, v V) V, opts ...Option) Table[K, V] {
	return aggregate(g, nil, func(_ K, v V, agg V, first bool) V {
		if first {
			return v
		}
		return f(agg, v)
	}, g.s.vc, opts)
}

// Aggregate folds the values of each key into an aggregate, starting
// from init(), with add: a table of the aggregates. Options: Named,
// InMemory, WithValueCodec (the aggregate's codec, required).
func Aggregate[K, V, A any](g Grouped[K, V], init func() A, add func(K, V, A) A, opts ...Option) Table[K, A] {
	o := collect(opts)
	ac := codecOf[A](g.s.t, o.valueCodec, nil, "aggregate")
	return aggregate(g, init, func(k K, v V, agg A, _ bool) A { return add(k, v, agg) }, ac, opts)
}

// aggregate adds an aggregation node and its store.
func aggregate[K, V, A any](g Grouped[K, V], init func() A, add func(k K, v V, agg A, first bool) A, ac Codec[A], opts []Option) Table[K, A] {
	o := collect(opts)
	t, kc := g.s.t, g.s.kc
	if kc == nil || ac == nil {
		t.fail(fmt.Errorf("flow: aggregation after %s: %w (the key's and the aggregate's)", g.s.n.name, errNilCodec))
	}
	n := t.add(kindAggregate, o.name, []*node{g.s.n}, nil)
	name := aggregateStore(t, n, o)
	n.newProc = func(t *task, n *node) (procFunc, error) {
		s := t.stores[name]
		return func(t *task, r rec) error {
			k := as[K](r.key)
			key, err := kc.Encode(k)
			if err != nil {
				return fmt.Errorf("aggregate %s: encode key: %w", name, err)
			}
			old, found, err := s.get(key)
			if err != nil {
				return err
			}
			c, encoded, err := fold(name, ac, old, found, init, func(agg A, first bool) A {
				return add(k, as[V](r.value), agg, first)
			})
			if err != nil {
				return err
			}
			if err := s.put(key, encoded); err != nil {
				return err
			}
			r.value = c
			return t.forward(n, r)
		}, nil
	}
	return Table[K, A]{t: t, n: n, kc: kc, vc: ac}
}

// GroupedTable is a table regrouped by a new key, ready to aggregate:
// each update subtracts the old value from its old key's aggregate and
// adds the new value to its new key's.
type GroupedTable[K, V any] struct {
	t  *Topology
	n  *node // the source of the repartition topic
	kc Codec[K]
	vc Codec[V]
}

// tableOp is what a grouped table's repartition topic carries: a value to
// add to its key's aggregate or to subtract from it.
type tableOp struct {
	value    any
	subtract bool
}

// opCodec encodes a tableOp: one byte (1 subtract, 0 add) and the value.
type opCodec[V any] struct{ vc Codec[V] }

func (c opCodec[V]) Encode(op tableOp) ([]byte, error) {
	b, err := c.vc.Encode(as[V](op.value))
	if err != nil {
		return nil, err
	}
	flag := byte(0)
	if op.subtract {
		flag = 1
	}
	return append([]byte{flag}, b...), nil
}

func (c opCodec[V]) Decode(b []byte) (tableOp, error) {
	if len(b) == 0 || b[0] > 1 {
		return tableOp{}, fmt.Errorf("flow: a grouped table's record starts with 0 or 1")
	}
	v, err := c.vc.Decode(b[1:])
	return tableOp{value: v, subtract: b[0] == 1}, err
}

// GroupTable regroups a table by the key and value f gives each entry,
// through a repartition topic. Options: Named, WithKeyCodec,
// WithValueCodec (the new keys' and values' codecs), Partitions.
func GroupTable[K, V, K2, V2 any](tb Table[K, V], f func(K, V) (K2, V2), opts ...Option) GroupedTable[K2, V2] {
	o := collect(opts)
	t := tb.t
	kc := codecOf[K2](t, o.keyCodec, nil, "key")
	vc := codecOf[V2](t, o.valueCodec, nil, "value")
	if kc == nil || vc == nil {
		t.fail(fmt.Errorf("flow: GroupTable after %s: %w (WithKeyCodec, WithValueCodec)", tb.n.name, errNilCodec))
	}
	by := t.add(kindTableGroupBy, "", []*node{tb.n}, func(_ *task, n *node) (procFunc, error) {
		return func(t *task, r rec) error {
			c := r.value.(change)
			k := as[K](r.key)
			if c.hasOld {
				k2, v2 := f(k, as[V](c.old))
				if err := t.forward(n, rec{key: k2, value: tableOp{value: v2, subtract: true}, ts: r.ts, headers: r.headers}); err != nil {
					return err
				}
			}
			if c.hasNew {
				k2, v2 := f(k, as[V](c.new))
				return t.forward(n, rec{key: k2, value: tableOp{value: v2}, ts: r.ts, headers: r.headers})
			}
			return nil
		}, nil
	})
	src := repartition[K2, tableOp](t, by, o, kc, opCodec[V2]{vc}, func(v any) any { return v })
	return GroupedTable[K2, V2]{t: t, n: src, kc: kc, vc: vc}
}

// Count counts the entries of each key. Options: Named, InMemory.
func (g GroupedTable[K, V]) Count(opts ...Option) Table[K, int64] {
	return AggregateTable(g, func() int64 { return 0 },
		func(_ K, _ V, n int64) int64 { return n + 1 }, func(_ K, _ V, n int64) int64 { return n - 1 },
		append(opts, WithValueCodec(Int64()))...)
}

// AggregateTable maintains an aggregate per key: add folds a new value in,
// subtract takes an old one out. Options: Named, InMemory, WithValueCodec
// (the aggregate's codec, required).
func AggregateTable[K, V, A any](g GroupedTable[K, V], init func() A, add, subtract func(K, V, A) A, opts ...Option) Table[K, A] {
	o := collect(opts)
	t, kc := g.t, g.kc
	ac := codecOf[A](t, o.valueCodec, nil, "aggregate")
	if ac == nil {
		t.fail(fmt.Errorf("flow: table aggregation after %s: %w (WithValueCodec)", g.n.name, errNilCodec))
	}
	n := t.add(kindTableAggregate, o.name, []*node{g.n}, nil)
	name := aggregateStore(t, n, o)
	n.newProc = func(t *task, n *node) (procFunc, error) {
		s := t.stores[name]
		return func(t *task, r rec) error {
			k := as[K](r.key)
			op := r.value.(tableOp)
			key, err := kc.Encode(k)
			if err != nil {
				return fmt.Errorf("aggregate %s: encode key: %w", name, err)
			}
			old, found, err := s.get(key)
			if err != nil {
				return err
			}
			c, encoded, err := fold(name, ac, old, found, init, func(agg A, _ bool) A {
				if op.subtract {
					return subtract(k, as[V](op.value), agg)
				}
				return add(k, as[V](op.value), agg)
			})
			if err != nil {
				return err
			}
			if err := s.put(key, encoded); err != nil {
				return err
			}
			r.value = c
			return t.forward(n, r)
		}, nil
	}
	return Table[K, A]{t: t, n: n, kc: kc, vc: ac}
}

// fold computes one aggregate's next value: old is its stored encoding
// (found false: none, and it starts from init(), or the zero A when init
// is nil); step folds the record in, told whether this is the first. It
// returns the change (old and new values) and the new value's encoding.
func fold[A any](name string, ac Codec[A], old []byte, found bool, init func() A, step func(agg A, first bool) A) (change, []byte, error) {
	c := change{}
	var agg A
	if found {
		var err error
		if agg, err = ac.Decode(old); err != nil {
			return c, nil, fmt.Errorf("aggregate %s: decode: %w", name, err)
		}
		c.old, c.hasOld = agg, true
	} else if init != nil {
		agg = init()
	}
	next := step(agg, !found)
	encoded, err := ac.Encode(next)
	if err != nil {
		return c, nil, fmt.Errorf("aggregate %s: encode: %w", name, err)
	}
	c.new, c.hasNew = next, true
	return c, encoded, nil
}
