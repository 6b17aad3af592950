package flow

import "fmt"

// JoinTables joins two tables with the same keys (inner join): the result
// has a key while both tables have it, with f's value of the two; an
// update on either side updates the result (or deletes the key from it).
// Both tables must be materialized (read with TableOf, aggregations, or
// Materialize) and co-partitioned. Options: Named, WithValueCodec (the
// result's).
func JoinTables[K, V1, V2, VR any](left Table[K, V1], right Table[K, V2], f func(K, V1, V2) VR, opts ...Option) Table[K, VR] {
	return tableJoin(left, right, innerJoin, func(k K, v1 V1, _ bool, v2 V2, _ bool) VR { return f(k, v1, v2) }, opts)
}

// LeftJoinTables is JoinTables whose result has every key of the left
// table: f gets found false and the zero V2 where the right table lacks
// it.
func LeftJoinTables[K, V1, V2, VR any](left Table[K, V1], right Table[K, V2], f func(k K, v1 V1, v2 V2, found bool) VR, opts ...Option) Table[K, VR] {
	return tableJoin(left, right, leftJoin, func(k K, v1 V1, _ bool, v2 V2, found bool) VR { return f(k, v1, v2, found) }, opts)
}

// OuterJoinTables is JoinTables whose result has every key of either
// table, f told which sides have it.
func OuterJoinTables[K, V1, V2, VR any](left Table[K, V1], right Table[K, V2], f func(k K, v1 V1, hasLeft bool, v2 V2, hasRight bool) VR, opts ...Option) Table[K, VR] {
	return tableJoin(left, right, outerJoin, f, opts)
}

// tableJoin adds a table-table join: a node below each table that meets
// its updates with the other table's current value, both forwarding the
// result's change to the join's node.
func tableJoin[K, V1, V2, VR any](l Table[K, V1], r Table[K, V2], mode joinMode, f func(K, V1, bool, V2, bool) VR, opts []Option) Table[K, VR] {
	o := collect(opts)
	t := l.t
	leftStore, rightStore := tableStore(l), tableStore(r)
	if leftStore == "" || rightStore == "" {
		t.fail(fmt.Errorf("flow: join of tables %s and %s: both must be materialized (TableOf, an aggregation, Materialize)", l.n.name, r.n.name))
	}
	kc, lc, rc := l.kc, l.vc, r.vc
	if kc == nil || lc == nil || rc == nil {
		t.fail(fmt.Errorf("flow: join of tables %s and %s: %w", l.n.name, r.n.name, errNilCodec))
	}
	present := func(hasL, hasR bool) bool {
		switch mode {
		case innerJoin:
			return hasL && hasR
		case leftJoin:
			return hasL
		}
		return hasL || hasR
	}
	out := t.add(kindTableJoin, o.name, nil, passThrough)
	// side builds the processor of one side: its updates against the
	// other table's current value, the result computed by result.
	side := func(other string, decode func([]byte) (any, error), result func(k K, mine any, hasMine bool, theirs any, hasTheirs bool) (any, bool)) func(*task, *node) (procFunc, error) {
		return func(tk *task, n *node) (procFunc, error) {
			st := tk.stores[other]
			return func(tk *task, r rec) error {
				c := r.value.(change)
				k := as[K](r.key)
				key, err := kc.Encode(k)
				if err != nil {
					return fmt.Errorf("join %s: encode key: %w", out.name, err)
				}
				raw, found, err := st.get(key)
				if err != nil {
					return err
				}
				var theirs any
				if found {
					if theirs, err = decode(raw); err != nil {
						return fmt.Errorf("join %s: decode: %w", out.name, err)
					}
				}
				var res change
				res.old, res.hasOld = result(k, c.old, c.hasOld, theirs, found)
				res.new, res.hasNew = result(k, c.new, c.hasNew, theirs, found)
				if !res.hasOld && !res.hasNew {
					return nil
				}
				r.value = res
				return tk.forward(n, r)
			}, nil
		}
	}
	leftProc := side(rightStore, func(b []byte) (any, error) { return rc.Decode(b) },
		func(k K, mine any, hasMine bool, theirs any, hasTheirs bool) (any, bool) {
			if !present(hasMine, hasTheirs) {
				return nil, false
			}
			return f(k, as[V1](mine), hasMine, as[V2](theirs), hasTheirs), true
		})
	rightProc := side(leftStore, func(b []byte) (any, error) { return lc.Decode(b) },
		func(k K, mine any, hasMine bool, theirs any, hasTheirs bool) (any, bool) {
			if !present(hasTheirs, hasMine) {
				return nil, false
			}
			return f(k, as[V1](theirs), hasTheirs, as[V2](mine), hasMine), true
		})
	for _, s := range []struct {
		parent *node
		suffix string
		proc   func(*task, *node) (procFunc, error)
	}{{l.n, "-left", leftProc}, {r.n, "-right", rightProc}} {
		n := t.add(kindJoinSide, out.name+s.suffix, []*node{s.parent}, s.proc)
		n.stores = []string{leftStore, rightStore}
		n.children = append(n.children, out)
		out.parents = append(out.parents, n)
	}
	return Table[K, VR]{t: t, n: out, kc: kc, vc: codecOf[VR](t, o.valueCodec, nil, "value")}
}

// Materialize keeps the table in a store of its own (Named; by default
// named after the operator), backed by a changelog, so that it can be
// joined. Tables read with TableOf and aggregations are materialized
// already. Options: Named, InMemory.
func (tb Table[K, V]) Materialize(opts ...Option) Table[K, V] {
	o := collect(opts)
	t := tb.t
	if tb.kc == nil || tb.vc == nil {
		t.fail(fmt.Errorf("flow: materialize %s: %w", tb.n.name, errNilCodec))
	}
	n := t.add(kindMaterialize, o.name, []*node{tb.n}, nil)
	t.addStore(n.name, keyValueStore, true).inMemory = o.inMemory
	n.stores = []string{n.name}
	kc, vc := tb.kc, tb.vc
	n.newProc = func(tk *task, n *node) (procFunc, error) {
		st := tk.stores[n.name]
		return func(tk *task, r rec) error {
			c := r.value.(change)
			key, err := kc.Encode(as[K](r.key))
			if err != nil {
				return fmt.Errorf("materialize %s: encode key: %w", n.name, err)
			}
			var value []byte
			if c.hasNew {
				if value, err = vc.Encode(as[V](c.new)); err != nil {
					return fmt.Errorf("materialize %s: encode: %w", n.name, err)
				}
				if value == nil {
					value = []byte{}
				}
			}
			if err := st.put(key, value); err != nil {
				return err
			}
			return tk.forward(n, r)
		}, nil
	}
	return tb.derive(n)
}
