package flow

import (
	"fmt"
)

// Table is a changelog stream (Kafka Streams' KTable): each record is the
// latest value of its key, replacing the previous one, and a deletion
// removes the key. Operators of a table see each update as a change, the
// old value and the new, so that aggregating a table replaces
// (subtracts the old value, adds the new) where aggregating a stream
// accumulates.
type Table[K, V any] struct {
	t  *Topology
	n  *node
	kc Codec[K]
	vc Codec[V]
}

// change is a table's update as its operators pass it on: the key's old
// value and its new one, either absent (a new key, a deletion).
type change struct {
	old, new       any
	hasOld, hasNew bool
}

// TableOf reads a topic as a table: each record is the key's new value, a
// record with a null value deletes the key. The table is materialized in
// a store named after the operator (Named; by default "<topic>-table"),
// backed by its changelog topic. Options: Named, InMemory, Timestamps,
// Versioned.
func TableOf[K, V any](t *Topology, topic string, kc Codec[K], vc Codec[V], opts ...Option) Table[K, V] {
	o := collect(opts)
	if kc == nil || vc == nil {
		t.fail(fmt.Errorf("flow: table %s: %w", topic, errNilCodec))
	}
	if _, dup := t.sources[topic]; dup {
		t.fail(fmt.Errorf("flow: topic %s is read by two sources", topic))
	}
	name := o.name
	if name == "" {
		name = topic + "-table"
	}
	n := t.add(kindTableSource, name, nil, nil)
	n.topics = []string{topic}
	n.stores = []string{name}
	def := t.addStore(name, keyValueStore, true)
	def.inMemory = o.inMemory
	if o.history > 0 {
		def.kind, def.retention = versionedStore, o.history
	}
	decode := decoder(kc, vc)
	n.decode = func(key, value []byte) (any, any, error) {
		k, v, err := decode(key, value)
		if value == nil {
			v = nil // a deletion
		}
		return k, v, err
	}
	n.extract = extractor[K, V](t, o, topic)
	n.newProc = func(t *task, n *node) (procFunc, error) {
		s := t.stores[name]
		return func(t *task, r rec) error {
			key, err := kc.Encode(as[K](r.key))
			if err != nil {
				return err
			}
			var c change
			var latest bool
			if s.versioned != nil {
				c, latest, err = replaceVersion(s, key, r.value, r.ts, vc)
			} else {
				c, err = replace(s, key, r.value, vc)
				latest = c.hasOld || c.hasNew
			}
			if err != nil || !latest {
				return err
			}
			r.value = c
			return t.forward(n, r)
		}, nil
	}
	t.sources[topic] = n
	return Table[K, V]{t: t, n: n, kc: kc, vc: vc}
}

// replace writes a key's new value (nil: deletes it) in a store and
// returns the change.
func replace[V any](s *taskStore, key []byte, value any, vc Codec[V]) (change, error) {
	c := change{}
	old, found, err := s.get(key)
	if err != nil {
		return c, err
	}
	if found {
		ov, err := vc.Decode(old)
		if err != nil {
			return c, fmt.Errorf("store %s: decode: %w", s.def.name, err)
		}
		c.old, c.hasOld = ov, true
	}
	var encoded []byte
	if value != nil {
		if encoded, err = vc.Encode(as[V](value)); err != nil {
			return c, err
		}
		c.new, c.hasNew = value, true
	}
	if !found && value == nil {
		return c, nil
	}
	return c, s.put(key, encoded)
}

// replaceVersion writes a key's version valid from ts in a versioned
// store (value nil: a deletion) and returns the change of its latest
// value: none (latest false) when the version is older than the latest,
// an update out of order that only fills in history.
func replaceVersion[V any](s *taskStore, key []byte, value any, ts int64, vc Codec[V]) (c change, latest bool, err error) {
	old, from, found, err := s.versioned.Get(key)
	if err != nil {
		return c, false, err
	}
	var encoded []byte
	if value != nil {
		if encoded, err = vc.Encode(as[V](value)); err != nil {
			return c, false, err
		}
		if encoded == nil {
			encoded = []byte{}
		}
	}
	if err := s.wrote(s.versioned.Put(key, ts, encoded)); err != nil {
		return c, false, err
	}
	if ts < from {
		return c, false, nil
	}
	if found {
		ov, err := vc.Decode(old)
		if err != nil {
			return c, false, fmt.Errorf("store %s: decode: %w", s.def.name, err)
		}
		c.old, c.hasOld = ov, true
	}
	if value != nil {
		c.new, c.hasNew = value, true
	}
	return c, c.hasOld || c.hasNew, nil
}

// derive returns a table of the same types below node n.
func (tb Table[K, V]) derive(n *node) Table[K, V] {
	return Table[K, V]{t: tb.t, n: n, kc: tb.kc, vc: tb.vc}
}

// Codecs returns the table with the codecs of its keys and values set.
func (tb Table[K, V]) Codecs(kc Codec[K], vc Codec[V]) Table[K, V] {
	tb.kc, tb.vc = kc, vc
	return tb
}

// ToStream returns the stream of the table's updates: each new value,
// deletions left out (Table.To writes them as tombstones).
func (tb Table[K, V]) ToStream(opts ...Option) Stream[K, V] {
	o := collect(opts)
	n := tb.t.add(kindToStream, o.name, []*node{tb.n}, func(_ *task, n *node) (procFunc, error) {
		return func(t *task, r rec) error {
			c := r.value.(change)
			if !c.hasNew {
				return nil
			}
			r.value = c.new
			return t.forward(n, r)
		}, nil
	})
	return Stream[K, V]{t: tb.t, n: n, kc: tb.kc, vc: tb.vc}
}

// Filter keeps the keys whose values satisfy keep: an update to a value
// that does not is a deletion of the key (if its old value was kept).
func (tb Table[K, V]) Filter(keep func(K, V) bool, opts ...Option) Table[K, V] {
	o := collect(opts)
	return tb.derive(tb.t.add(kindTableFilter, o.name, []*node{tb.n}, func(_ *task, n *node) (procFunc, error) {
		return func(t *task, r rec) error {
			c := r.value.(change)
			k := as[K](r.key)
			if c.hasOld && !keep(k, as[V](c.old)) {
				c.old, c.hasOld = nil, false
			}
			if c.hasNew && !keep(k, as[V](c.new)) {
				c.new, c.hasNew = nil, false
			}
			if !c.hasOld && !c.hasNew {
				return nil
			}
			r.value = c
			return t.forward(n, r)
		}, nil
	}))
}

// MapTableValues replaces each value of a table by f's. Options: Named,
// WithValueCodec.
func MapTableValues[K, V, V2 any](tb Table[K, V], f func(K, V) V2, opts ...Option) Table[K, V2] {
	o := collect(opts)
	n := tb.t.add(kindTableMapValues, o.name, []*node{tb.n}, func(_ *task, n *node) (procFunc, error) {
		return func(t *task, r rec) error {
			c := r.value.(change)
			k := as[K](r.key)
			if c.hasOld {
				c.old = f(k, as[V](c.old))
			}
			if c.hasNew {
				c.new = f(k, as[V](c.new))
			}
			r.value = c
			return t.forward(n, r)
		}, nil
	})
	return Table[K, V2]{t: tb.t, n: n, kc: tb.kc, vc: codecOf[V2](tb.t, o.valueCodec, nil, "value")}
}

// To writes the table's updates to a topic: new values, and deletions as
// tombstones (null values), for a compacted topic. Options: Named.
func (tb Table[K, V]) To(topic string, opts ...Option) {
	o := collect(opts)
	if tb.kc == nil || tb.vc == nil {
		tb.t.fail(fmt.Errorf("flow: sink %s: %w", topic, errNilCodec))
	}
	kc, vc := tb.kc, tb.vc
	n := tb.t.add(kindSink, o.name, []*node{tb.n}, func(_ *task, _ *node) (procFunc, error) {
		return func(t *task, r rec) error {
			key, err := kc.Encode(as[K](r.key))
			if err != nil {
				return fmt.Errorf("encode key for %s: %w", topic, err)
			}
			var value []byte
			if c := r.value.(change); c.hasNew {
				if value, err = vc.Encode(as[V](c.new)); err != nil {
					return fmt.Errorf("encode value for %s: %w", topic, err)
				}
			}
			return t.send(topic, false, -1, key, value, r)
		}, nil
	})
	n.sinkTopic = topic
}
