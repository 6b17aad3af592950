package flow

import "fmt"

// JoinTable enriches a stream with a table (stream-table inner join):
// each record of the stream whose key has a value in the table is joined
// with that value by f, as the table is when the record is processed (or,
// for a table read with the Versioned option, as it was at the record's
// event time);
// records whose key is not in the table are dropped. Updates of the table
// produce nothing. The stream and the table's topic must be
// co-partitioned (the same number of partitions, keyed alike); a stream
// whose keys changed is repartitioned first. Options: Named,
// WithValueCodec (the result's).
func JoinTable[K, V, VT, VR any](s Stream[K, V], tb Table[K, VT], f func(K, V, VT) VR, opts ...Option) Stream[K, VR] {
	return joinTable(s, tb, func(k K, v V, vt VT, found bool) (VR, bool) {
		if !found {
			var zero VR
			return zero, false
		}
		return f(k, v, vt), true
	}, opts)
}

// LeftJoinTable is JoinTable that keeps the records whose key is not in
// the table: f gets found false and the zero value then.
func LeftJoinTable[K, V, VT, VR any](s Stream[K, V], tb Table[K, VT], f func(k K, v V, vt VT, found bool) VR, opts ...Option) Stream[K, VR] {
	return joinTable(s, tb, func(k K, v V, vt VT, found bool) (VR, bool) { return f(k, v, vt, found), true }, opts)
}

// joinTable adds a stream-table join below the stream and the table (so
// that both are in one sub-topology, with the table's store); records
// from the table's side, its updates, are ignored.
func joinTable[K, V, VT, VR any](s Stream[K, V], tb Table[K, VT], f func(K, V, VT, bool) (VR, bool), opts []Option) Stream[K, VR] {
	o := collect(opts)
	t := s.t
	if s.keyChanged {
		s = s.Repartition()
	}
	storeName := tableStore(tb)
	if storeName == "" {
		t.fail(fmt.Errorf("flow: join with table %s: the table must be materialized (TableOf, an aggregation, Materialize)", tb.n.name))
	}
	kc, vtc := s.kc, tb.vc
	if kc == nil {
		kc = codecOf[K](t, nil, tb.kc, "key")
	}
	n := t.add(kindJoin, o.name, []*node{s.n, tb.n}, nil)
	n.stores = append(n.stores, storeName)
	n.newProc = func(tk *task, n *node) (procFunc, error) {
		st := tk.stores[storeName]
		return func(tk *task, r rec) error {
			if _, update := r.value.(change); update {
				return nil
			}
			k := as[K](r.key)
			key, err := kc.Encode(k)
			if err != nil {
				return fmt.Errorf("join %s: encode key: %w", n.name, err)
			}
			var raw []byte
			var found bool
			if st.versioned != nil {
				raw, _, found, err = st.versioned.GetAsOf(key, r.ts)
			} else {
				raw, found, err = st.get(key)
			}
			if err != nil {
				return err
			}
			var vt VT
			if found {
				if vt, err = vtc.Decode(raw); err != nil {
					return fmt.Errorf("join %s: decode the table's value: %w", n.name, err)
				}
			}
			out, ok := f(k, as[V](r.value), vt, found)
			if !ok {
				return nil
			}
			r.value = out
			return tk.forward(n, r)
		}, nil
	}
	return Stream[K, VR]{t: t, n: n, kc: s.kc, vc: codecOf[VR](t, o.valueCodec, nil, "value")}
}

// tableStore returns the key-value store materializing a table: that of
// its source (TableOf), aggregation or Materialize; "" for other derived
// tables.
func tableStore[K, V any](tb Table[K, V]) string {
	switch tb.n.kind {
	case kindTableSource, kindAggregate, kindTableAggregate, kindMaterialize:
		return tb.n.stores[0]
	}
	return ""
}
