package flow

import (
	"fmt"
	"time"
)

// operatorRetention is the retention of the window and session stores of
// windowed aggregations: the operators delete each window themselves when
// the watermark closes it (the stores' own expiry follows the highest
// time written, which may run ahead of a watermark held back by a slower
// partition).
const operatorRetention = 100 * 365 * 24 * time.Hour

// TimeWindowedStream is a grouped stream cut into time windows, ready to
// aggregate per key and window: Count, Reduce, AggregateWindows.
type TimeWindowedStream[K, V any] struct {
	g Grouped[K, V]
	w TimeWindows
}

// WindowedBy cuts a grouped stream into time windows. (A function, not a
// method of Grouped: the windowed keys it leads to would make Go's
// generic types recursive.)
func WindowedBy[K, V any](g Grouped[K, V], w TimeWindows) TimeWindowedStream[K, V] {
	if err := w.check(); err != nil {
		g.s.t.fail(err)
	}
	return TimeWindowedStream[K, V]{g: g, w: w}
}

// Count counts each key's records per window. Options: Named, EmitFinal,
// LateTo.
func (tw TimeWindowedStream[K, V]) Count(opts ...Option) Table[Windowed[K], int64] {
	return AggregateWindows(tw, func() int64 { return 0 }, func(_ K, _ V, n int64) int64 { return n + 1 },
		append(opts, WithValueCodec(Int64()))...)
}

// Reduce combines each key's values per window with f. Options: Named,
// EmitFinal, LateTo.
func (tw TimeWindowedStream[K, V]) Reduce(f func(agg, v V) V, opts ...Option) Table[Windowed[K], V] {
	return windowAggregate(tw, nil, func(_ K, v V, agg V, first bool) V {
		if first {
			return v
		}
		return f(agg, v)
	}, tw.g.s.vc, opts)
}

// AggregateWindows folds each key's values per window into an aggregate,
// from init(), with add. Options: Named, WithValueCodec (the aggregate's
// codec, required), EmitFinal, LateTo.
func AggregateWindows[K, V, A any](tw TimeWindowedStream[K, V], init func() A, add func(K, V, A) A, opts ...Option) Table[Windowed[K], A] {
	o := collect(opts)
	ac := codecOf[A](tw.g.s.t, o.valueCodec, nil, "aggregate")
	return windowAggregate(tw, init, func(k K, v V, agg A, _ bool) A { return add(k, v, agg) }, ac, opts)
}

// windowAggregate adds a time-windowed aggregation. A record updates the
// windows holding its event time that are still open (their end plus
// grace after the watermark); a record whose windows are all closed is
// late: counted, dropped, or sent to the LateTo topic. Each window is
// deleted from the store when the watermark closes it, and with
// EmitFinal its result is emitted then, once.
func windowAggregate[K, V, A any](tw TimeWindowedStream[K, V], init func() A, add func(k K, v V, agg A, first bool) A, ac Codec[A], opts []Option) Table[Windowed[K], A] {
	o := collect(opts)
	s := tw.g.s
	t, kc, w := s.t, s.kc, tw.w
	if kc == nil || ac == nil {
		t.fail(fmt.Errorf("flow: windowed aggregation after %s: %w (the key's and the aggregate's)", s.n.name, errNilCodec))
	}
	n := t.add(kindWindowAggregate, o.name, []*node{s.n}, nil)
	n.timed = true // windows close with the watermark
	name := n.name
	def := t.addStore(name, windowStore, true)
	def.retention = operatorRetention
	def.cached = true
	n.stores = append(n.stores, name)
	late := lateSink(s, o)
	size, grace := w.Size.Milliseconds(), w.Grace.Milliseconds()
	windowKey := func(k any, start int64) Windowed[K] {
		return Windowed[K]{Key: as[K](k), Window: Window{Start: time.UnixMilli(start), End: time.UnixMilli(start + size)}}
	}
	n.newProc = func(tk *task, n *node) (procFunc, error) {
		st := tk.stores[name]
		tk.onWatermark = append(tk.onWatermark, func(tk *task, wm int64) error {
			return closeWindows(tk, n, st, kc, ac, wm-grace-size, o.emitFinal, func(key K, start int64) (Windowed[K], int64) {
				return windowKey(key, start), start + size - 1
			})
		})
		return func(tk *task, r rec) error {
			k := as[K](r.key)
			key, err := kc.Encode(k)
			if err != nil {
				return fmt.Errorf("windowed aggregate %s: encode key: %w", name, err)
			}
			open := false
			for _, start := range w.starts(r.ts) {
				if start+size+grace <= tk.watermark {
					continue // closed
				}
				open = true
				old, found, err := st.getWindow(key, start)
				if err != nil {
					return err
				}
				c, encoded, err := fold(name, ac, old, found, init, func(agg A, first bool) A {
					return add(k, as[V](r.value), agg, first)
				})
				if err != nil {
					return err
				}
				if err := st.putWindow(key, start, encoded); err != nil {
					return err
				}
				if o.emitFinal {
					continue
				}
				if err := tk.forward(n, rec{key: windowKey(k, start), value: c, ts: r.ts, headers: r.headers}); err != nil {
					return err
				}
			}
			if !open {
				return late(tk, r)
			}
			return nil
		}, nil
	}
	return Table[Windowed[K], A]{t: t, n: n, kc: WindowedCodec(kc), vc: ac}
}

// closeWindows deletes the windows starting at or before last, emitting
// each one's final result when final, keyed by window(key, start) at the
// event time it gives.
func closeWindows[K, A any](tk *task, n *node, st *taskStore, kc Codec[K], ac Codec[A], last int64, final bool, window func(K, int64) (Windowed[K], int64)) error {
	done, err := st.removeUpTo(last)
	if err != nil || !final {
		return err
	}
	for _, c := range done {
		k, err := kc.Decode(c.key)
		if err != nil {
			return fmt.Errorf("windowed aggregate %s: decode key: %w", st.def.name, err)
		}
		agg, err := ac.Decode(c.value)
		if err != nil {
			return fmt.Errorf("windowed aggregate %s: decode: %w", st.def.name, err)
		}
		key, ts := window(k, c.t)
		if err := tk.forward(n, rec{key: key, value: change{new: agg, hasNew: true}, ts: ts}); err != nil {
			return err
		}
	}
	return nil
}

// lateSink returns what a windowed operator does with a late record:
// count it, and send it to the LateTo topic if there is one.
func lateSink[K, V any](s Stream[K, V], o options) func(*task, rec) error {
	if o.lateTopic == "" {
		return func(tk *task, _ rec) error {
			tk.late++
			return nil
		}
	}
	if s.kc == nil || s.vc == nil {
		s.t.fail(fmt.Errorf("flow: LateTo %s: %w (the stream's)", o.lateTopic, errNilCodec))
	}
	kc, vc, topic := s.kc, s.vc, o.lateTopic
	return func(tk *task, r rec) error {
		tk.late++
		key, err := kc.Encode(as[K](r.key))
		if err != nil {
			return err
		}
		value, err := vc.Encode(as[V](r.value))
		if err != nil {
			return err
		}
		return tk.send(topic, false, -1, key, value, r)
	}
}
