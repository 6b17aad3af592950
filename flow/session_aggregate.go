package flow

import (
	"errors"
	"fmt"
	"time"
)

// SessionWindowedStream is a grouped stream cut into sessions, ready to
// aggregate per key and session: Count, Reduce, AggregateSessions.
type SessionWindowedStream[K, V any] struct {
	g Grouped[K, V]
	w SessionWindows
}

// SessionWindowedBy cuts a grouped stream into sessions of activity.
func SessionWindowedBy[K, V any](g Grouped[K, V], w SessionWindows) SessionWindowedStream[K, V] {
	if w.Gap < time.Millisecond || w.Grace < 0 {
		g.s.t.fail(fmt.Errorf("flow: sessions with gap %v and grace %v: want gap >= 1ms, grace >= 0", w.Gap, w.Grace))
	}
	return SessionWindowedStream[K, V]{g: g, w: w}
}

// Count counts each key's records per session. Options: Named, EmitFinal,
// LateTo.
func (sw SessionWindowedStream[K, V]) Count(opts ...Option) Table[Windowed[K], int64] {
	return AggregateSessions(sw, func() int64 { return 0 },
		func(_ K, _ V, n int64) int64 { return n + 1 },
		func(_ K, a, b int64) int64 { return a + b },
		append(opts, WithValueCodec(Int64()))...)
}

// Reduce combines each key's values per session with f, which also merges
// sessions that a record bridges. Options: Named, EmitFinal, LateTo.
func (sw SessionWindowedStream[K, V]) Reduce(f func(agg, v V) V, opts ...Option) Table[Windowed[K], V] {
	return sessionAggregate(sw, nil,
		func(_ K, v V, agg V, first bool) V {
			if first {
				return v
			}
			return f(agg, v)
		},
		func(_ K, a V, b V, aSet bool) V {
			if !aSet {
				return b
			}
			return f(a, b)
		}, sw.g.s.vc, opts)
}

// AggregateSessions folds each key's values per session into an
// aggregate, from init(), with add; merge combines the aggregates of two
// sessions that a record bridges. Options: Named, WithValueCodec (the
// aggregate's codec, required), EmitFinal, LateTo.
func AggregateSessions[K, V, A any](sw SessionWindowedStream[K, V], init func() A, add func(K, V, A) A, merge func(K, A, A) A, opts ...Option) Table[Windowed[K], A] {
	o := collect(opts)
	ac := codecOf[A](sw.g.s.t, o.valueCodec, nil, "aggregate")
	return sessionAggregate(sw, init,
		func(k K, v V, agg A, _ bool) A { return add(k, v, agg) },
		func(k K, a, b A, _ bool) A { return merge(k, a, b) }, ac, opts)
}

// sessionAggregate adds a session aggregation. A record at t joins the
// sessions of its key ending at or after t - gap and starting at or before
// t + gap, merged into one (the merged sessions' results are deleted, a
// tombstone each when results are emitted on update); with none, it
// starts a session [t, t]. A record whose session would already be closed
// (t + gap + grace at or before the watermark) is late. A session is
// deleted when the watermark passes its end plus gap plus grace, and with
// EmitFinal its result is emitted then, once.
func sessionAggregate[K, V, A any](sw SessionWindowedStream[K, V], init func() A, add func(k K, v V, agg A, first bool) A, merge func(k K, a, b A, aSet bool) A, ac Codec[A], opts []Option) Table[Windowed[K], A] {
	o := collect(opts)
	s := sw.g.s
	t, kc := s.t, s.kc
	if kc == nil || ac == nil {
		t.fail(fmt.Errorf("flow: session aggregation after %s: %w (the key's and the aggregate's)", s.n.name, errNilCodec))
	}
	n := t.add(kindSessionAggregate, o.name, []*node{s.n}, nil)
	n.timed = true // sessions close with the watermark
	name := n.name
	def := t.addStore(name, sessionStore, true)
	def.retention = operatorRetention
	n.stores = append(n.stores, name)
	late := lateSink(s, o)
	gap, grace := sw.w.Gap.Milliseconds(), sw.w.Grace.Milliseconds()
	session := func(k K, start, end int64) Windowed[K] {
		return Windowed[K]{Key: k, Window: Window{Start: time.UnixMilli(start), End: time.UnixMilli(end)}}
	}
	n.newProc = func(tk *task, n *node) (procFunc, error) {
		st := tk.stores[name]
		tk.onWatermark = append(tk.onWatermark, func(tk *task, wm int64) error {
			return closeSessions(tk, n, st, kc, ac, wm-gap-grace, o.emitFinal, session)
		})
		return func(tk *task, r rec) error {
			if r.ts+gap+grace <= tk.watermark {
				return late(tk, r)
			}
			k := as[K](r.key)
			key, err := kc.Encode(k)
			if err != nil {
				return fmt.Errorf("session aggregate %s: encode key: %w", name, err)
			}
			type found struct {
				start, end int64
				agg        A
			}
			var merged []found
			var decodeErr error
			err = st.session.FindSessions(key, r.ts-gap, r.ts+gap, func(start, end int64, v []byte) bool {
				agg, err := ac.Decode(v)
				if err != nil {
					decodeErr = err
					return false
				}
				merged = append(merged, found{start, end, agg})
				return true
			})
			if err = errors.Join(err, decodeErr); err != nil {
				return fmt.Errorf("session aggregate %s: %w", name, err)
			}
			start, end := r.ts, r.ts
			var agg A
			aggSet := false
			if init != nil {
				agg, aggSet = init(), true
			}
			for _, m := range merged {
				start, end = min(start, m.start), max(end, m.end)
				agg = merge(k, agg, m.agg, aggSet)
				aggSet = true
				if err := st.wrote(st.session.Remove(key, m.start, m.end)); err != nil {
					return err
				}
				if !o.emitFinal {
					c := change{old: m.agg, hasOld: true}
					if err := tk.forward(n, rec{key: session(k, m.start, m.end), value: c, ts: r.ts, headers: r.headers}); err != nil {
						return err
					}
				}
			}
			next := add(k, as[V](r.value), agg, !aggSet)
			encoded, err := ac.Encode(next)
			if err != nil {
				return fmt.Errorf("session aggregate %s: encode: %w", name, err)
			}
			if err := st.putSession(key, start, end, encoded); err != nil {
				return err
			}
			if o.emitFinal {
				return nil
			}
			return tk.forward(n, rec{key: session(k, start, end), value: change{new: next, hasNew: true}, ts: r.ts, headers: r.headers})
		}, nil
	}
	return Table[Windowed[K], A]{t: t, n: n, kc: WindowedCodec(kc), vc: ac}
}

// closeSessions deletes the sessions ending at or before last, emitting
// each one's final result when final.
func closeSessions[K, A any](tk *task, n *node, st *taskStore, kc Codec[K], ac Codec[A], last int64, final bool, session func(K, int64, int64) Windowed[K]) error {
	done, err := st.removeUpTo(last)
	if err != nil || !final {
		return err
	}
	for _, c := range done {
		k, err := kc.Decode(c.key)
		if err != nil {
			return fmt.Errorf("session aggregate %s: decode key: %w", st.def.name, err)
		}
		agg, err := ac.Decode(c.value)
		if err != nil {
			return fmt.Errorf("session aggregate %s: decode: %w", st.def.name, err)
		}
		if err := tk.forward(n, rec{key: session(k, c.start, c.t), value: change{new: agg, hasNew: true}, ts: c.t}); err != nil {
			return err
		}
	}
	return nil
}
