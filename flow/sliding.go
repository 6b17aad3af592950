package flow

import (
	"fmt"
	"time"
)

// SlidingWindows are windows of event time that move with the records
// (Kafka Streams' sliding windows): each key has a window ending at each
// of its records, [t-Size, t] for a record at t, both ends included, which
// holds the key's records within Size before it. A record also joins the
// windows of the key's later records it falls in, if they are still open.
// A window closes when the watermark passes its end plus Grace; a record
// whose own window has closed is late.
//
// Unlike Kafka Streams, no window is made that starts just after a record
// ("right" windows): every set of records that fit in Size is within the
// window of its latest record, so the largest aggregates, the question
// sliding windows mostly answer (more than n payments within a minute?),
// are the same.
type SlidingWindows struct {
	Size, Grace time.Duration
}

// Sliding returns sliding windows of size, with no grace.
func Sliding(size time.Duration) SlidingWindows { return SlidingWindows{Size: size} }

// WithGrace returns the windows with a grace period.
func (w SlidingWindows) WithGrace(grace time.Duration) SlidingWindows {
	w.Grace = grace
	return w
}

// SlidingWindowedStream is a grouped stream cut into sliding windows,
// ready to aggregate per key and window: Count, Reduce, AggregateSliding.
type SlidingWindowedStream[K, V any] struct {
	g Grouped[K, V]
	w SlidingWindows
}

// SlidingWindowedBy cuts a grouped stream into sliding windows.
func SlidingWindowedBy[K, V any](g Grouped[K, V], w SlidingWindows) SlidingWindowedStream[K, V] {
	if w.Size < time.Millisecond || w.Grace < 0 {
		g.s.t.fail(fmt.Errorf("flow: sliding windows of size %v with grace %v: want size >= 1ms, grace >= 0", w.Size, w.Grace))
	}
	return SlidingWindowedStream[K, V]{g: g, w: w}
}

// Count counts each key's records per window. Options: Named, EmitFinal.
func (sw SlidingWindowedStream[K, V]) Count(opts ...Option) Table[Windowed[K], int64] {
	return AggregateSliding(sw, func() int64 { return 0 }, func(_ K, _ V, n int64) int64 { return n + 1 },
		append(opts, WithValueCodec(Int64()))...)
}

// Reduce combines each key's values per window with f. Options: Named,
// EmitFinal.
func (sw SlidingWindowedStream[K, V]) Reduce(f func(agg, v V) V, opts ...Option) Table[Windowed[K], V] {
	return slidingAggregate(sw, nil, func(_ K, v V, agg V, first bool) V {
		if first {
			return v
		}
		return f(agg, v)
	}, sw.g.s.vc, opts)
}

// AggregateSliding folds each key's values per sliding window into an
// aggregate, from init(), with add. Options: Named, WithValueCodec (the
// aggregate's codec, required), EmitFinal.
func AggregateSliding[K, V, A any](sw SlidingWindowedStream[K, V], init func() A, add func(K, V, A) A, opts ...Option) Table[Windowed[K], A] {
	o := collect(opts)
	ac := codecOf[A](sw.g.s.t, o.valueCodec, nil, "aggregate")
	return slidingAggregate(sw, init, func(k K, v V, agg A, _ bool) A { return add(k, v, agg) }, ac, opts)
}

// slidingAggregate adds a sliding-window aggregation. Its window store
// (named after the operator) holds the aggregates by window start; a
// buffer "<name>-records" holds the records, from which the window ending
// at a new record's time is folded. Results are keyed by the window
// [t-Size, t] and carry its end as their time.
func slidingAggregate[K, V, A any](sw SlidingWindowedStream[K, V], init func() A, add func(k K, v V, agg A, first bool) A, ac Codec[A], opts []Option) Table[Windowed[K], A] {
	o := collect(opts)
	s := sw.g.s
	t, kc, vc := s.t, s.kc, s.vc
	if kc == nil || vc == nil || ac == nil {
		t.fail(fmt.Errorf("flow: sliding-window aggregation after %s: %w (the key's, the value's and the aggregate's)", s.n.name, errNilCodec))
	}
	n := t.add(kindSlidingAggregate, o.name, []*node{s.n}, nil)
	n.timed = true // windows close with the watermark
	name, records := n.name, n.name+"-records"
	for _, st := range []string{name, records} {
		t.addStore(st, windowStore, true).retention = operatorRetention
	}
	n.stores = append(n.stores, name, records)
	size, grace := sw.w.Size.Milliseconds(), sw.w.Grace.Milliseconds()
	window := func(k K, start int64) (Windowed[K], int64) {
		return Windowed[K]{Key: k, Window: Window{Start: time.UnixMilli(start), End: time.UnixMilli(start + size)}}, start + size
	}
	n.newProc = func(tk *task, n *node) (procFunc, error) {
		aggs, buf := tk.stores[name], tk.stores[records]
		tk.onWatermark = append(tk.onWatermark, func(tk *task, wm int64) error {
			// Records are kept while a window could still be made that
			// holds them: one ending at a record not yet late.
			if err := bufferExpire(buf, wm-grace-size-1, nil); err != nil {
				return err
			}
			return closeWindows(tk, n, aggs, kc, ac, wm-grace-size-1, o.emitFinal, window)
		})
		update := func(tk *task, k K, key []byte, start int64, old []byte, found bool, step func(A, bool) A, r rec) error {
			c, encoded, err := fold(name, ac, old, found, init, step)
			if err != nil {
				return err
			}
			if err := aggs.putWindow(key, start, encoded); err != nil {
				return err
			}
			if o.emitFinal {
				return nil
			}
			w, end := window(k, start)
			return tk.forward(n, rec{key: w, value: c, ts: end, headers: r.headers})
		}
		return func(tk *task, r rec) error {
			if r.ts+grace < tk.watermark {
				tk.late++
				return nil
			}
			k, v := as[K](r.key), as[V](r.value)
			key, err := kc.Encode(k)
			if err != nil {
				return fmt.Errorf("sliding aggregate %s: encode key: %w", name, err)
			}
			addV := func(agg A, first bool) A { return add(k, v, agg, first) }
			// The later windows the record falls in (ending in
			// (t, t+size], so starting in (t-size, t]).
			type window struct {
				start int64
				agg   []byte
			}
			var later []window
			err = aggs.windows.Fetch(key, r.ts-size+1, r.ts, func(start int64, agg []byte) bool {
				later = append(later, window{start, append([]byte(nil), agg...)})
				return true
			})
			if err != nil {
				return err
			}
			for _, w := range later {
				if w.start+size+grace < tk.watermark {
					continue // closed
				}
				if err := update(tk, k, key, w.start, w.agg, true, addV, r); err != nil {
					return err
				}
			}
			// The record's own window: there already if another record
			// came at the same time, else folded from the buffer.
			own := r.ts - size
			agg, found, err := aggs.windows.Get(key, own)
			if err != nil {
				return err
			}
			step := addV
			if !found {
				prevs, err := bufferedValues(buf, vc, key, own, r.ts)
				if err != nil {
					return fmt.Errorf("sliding aggregate %s: %w", name, err)
				}
				step = func(agg A, first bool) A {
					for _, prev := range prevs {
						agg, first = add(k, prev, agg, first), false
					}
					return add(k, v, agg, first)
				}
			}
			if err := update(tk, k, key, own, agg, found, step, r); err != nil {
				return err
			}
			value, err := vc.Encode(v)
			if err != nil {
				return fmt.Errorf("sliding aggregate %s: encode: %w", name, err)
			}
			return bufferAppend(buf, key, r.ts, bufferEntry{value: value})
		}, nil
	}
	return Table[Windowed[K], A]{t: t, n: n, kc: WindowedCodec(kc), vc: ac}
}

// bufferedValues returns the values buffered for key from from to to
// (inclusive), in order of time and arrival.
func bufferedValues[V any](buf *taskStore, vc Codec[V], key []byte, from, to int64) ([]V, error) {
	var lists [][]byte
	err := buf.windows.Fetch(key, from, to, func(_ int64, list []byte) bool {
		lists = append(lists, append([]byte(nil), list...))
		return true
	})
	if err != nil {
		return nil, err
	}
	var values []V
	for _, list := range lists {
		entries, err := decodeBuffer(list)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			v, err := vc.Decode(e.value)
			if err != nil {
				return nil, fmt.Errorf("decode: %w", err)
			}
			values = append(values, v)
		}
	}
	return values, nil
}
