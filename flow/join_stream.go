package flow

import (
	"fmt"
	"time"
)

// JoinWindows bound how far apart in event time the records of a
// stream-stream join may be: a record of the left stream at t joins the
// records of the right stream with the same key and times in
// [t-Before, t+After] (so a right record at t' joins the left records in
// [t'-After, t'+Before]). Grace is how late, behind the watermark, a
// record may come and still join; later ones are dropped and counted.
type JoinWindows struct {
	Before, After, Grace time.Duration
}

// JoinWithin returns join windows of d either way, with no grace.
func JoinWithin(d time.Duration) JoinWindows { return JoinWindows{Before: d, After: d} }

// WithGrace returns the windows with a grace period.
func (w JoinWindows) WithGrace(grace time.Duration) JoinWindows {
	w.Grace = grace
	return w
}

func (w JoinWindows) check() error {
	if w.Before < 0 || w.After < 0 || w.Grace < 0 || w.Before+w.After <= 0 {
		return fmt.Errorf("flow: join windows %v before, %v after, grace %v: want none negative and a window longer than 0", w.Before, w.After, w.Grace)
	}
	return nil
}

// Join joins two streams within windows (inner join): each pair of
// records with the same key whose times are within the windows gives
// f's result, at the later of their two times, whichever came first. Both
// streams are buffered, each record until the watermark passes the last
// time a record of the other stream could join it, in window stores
// "<name>-left" and "<name>-right" backed by changelogs. The streams must
// be co-partitioned; one whose keys changed is repartitioned first. Both
// need their codecs. Options: Named, WithValueCodec (the result's).
func Join[K, V1, V2, VR any](left Stream[K, V1], right Stream[K, V2], w JoinWindows, f func(K, V1, V2) VR, opts ...Option) Stream[K, VR] {
	return streamJoin(left, right, w, innerJoin, func(k K, v1 V1, _ bool, v2 V2, _ bool) VR { return f(k, v1, v2) }, opts)
}

// LeftJoin is Join that also gives a result for each left record that
// joined no right record: f with found false and the zero V2, once the
// watermark passes its window (so that a right record that comes later,
// within the window, still joins it).
func LeftJoin[K, V1, V2, VR any](left Stream[K, V1], right Stream[K, V2], w JoinWindows, f func(k K, v1 V1, v2 V2, found bool) VR, opts ...Option) Stream[K, VR] {
	return streamJoin(left, right, w, leftJoin, func(k K, v1 V1, _ bool, v2 V2, found bool) VR { return f(k, v1, v2, found) }, opts)
}

// OuterJoin is Join that also gives a result for each record of either
// stream that joined none of the other, once the watermark passes its
// window: f with hasLeft or hasRight false and the zero value.
func OuterJoin[K, V1, V2, VR any](left Stream[K, V1], right Stream[K, V2], w JoinWindows, f func(k K, v1 V1, hasLeft bool, v2 V2, hasRight bool) VR, opts ...Option) Stream[K, VR] {
	return streamJoin(left, right, w, outerJoin, f, opts)
}

type joinMode int

const (
	innerJoin joinMode = iota
	leftJoin
	outerJoin
)

// streamJoin adds a stream-stream join: a node below each stream that
// buffers its records and joins them with the other's buffer, both
// forwarding to the join's node.
func streamJoin[K, V1, V2, VR any](l Stream[K, V1], r Stream[K, V2], w JoinWindows, mode joinMode, f func(K, V1, bool, V2, bool) VR, opts []Option) Stream[K, VR] {
	o := collect(opts)
	t := l.t
	if err := w.check(); err != nil {
		t.fail(err)
	}
	if l.keyChanged {
		l = l.Repartition()
	}
	if r.keyChanged {
		r = r.Repartition()
	}
	kc := l.kc
	if kc == nil {
		kc = r.kc
	}
	if kc == nil || l.vc == nil || r.vc == nil {
		t.fail(fmt.Errorf("flow: join of %s and %s: %w (the keys' and both streams' values')", l.n.name, r.n.name, errNilCodec))
	}
	out := t.add(kindJoin, o.name, nil, passThrough)
	leftStore, rightStore := out.name+"-left", out.name+"-right"
	for _, name := range []string{leftStore, rightStore} {
		t.addStore(name, windowStore, true).retention = operatorRetention
	}
	before, after, grace := w.Before.Milliseconds(), w.After.Milliseconds(), w.Grace.Milliseconds()
	lc, rc := l.vc, r.vc
	leftSide := joinSide[K]{own: leftStore, other: rightStore, before: before, after: after, grace: grace,
		keep: mode != innerJoin, markOther: mode == outerJoin, kc: kc,
		encode: func(v any) ([]byte, error) { return lc.Encode(as[V1](v)) },
		joined: func(k K, v any, other []byte) (any, error) {
			v2, err := rc.Decode(other)
			return f(k, as[V1](v), true, v2, true), err
		},
		alone: func(k K, own []byte) (any, error) {
			v1, err := lc.Decode(own)
			var v2 V2
			return f(k, v1, true, v2, false), err
		}}
	rightSide := joinSide[K]{own: rightStore, other: leftStore, before: after, after: before, grace: grace,
		keep: mode == outerJoin, markOther: mode != innerJoin, kc: kc,
		encode: func(v any) ([]byte, error) { return rc.Encode(as[V2](v)) },
		joined: func(k K, v any, other []byte) (any, error) {
			v1, err := lc.Decode(other)
			return f(k, v1, true, as[V2](v), true), err
		},
		alone: func(k K, own []byte) (any, error) {
			v2, err := rc.Decode(own)
			var v1 V1
			return f(k, v1, false, v2, true), err
		}}
	for _, side := range []struct {
		s      joinSide[K]
		parent *node
		suffix string
	}{{leftSide, l.n, "-left"}, {rightSide, r.n, "-right"}} {
		n := t.add(kindJoinSide, out.name+side.suffix, []*node{side.parent}, side.s.newProc)
		n.stores = []string{leftStore, rightStore}
		n.timed = true // buffers expire with the watermark
		n.children = append(n.children, out)
		out.parents = append(out.parents, n)
	}
	return Stream[K, VR]{t: t, n: out, kc: kc, vc: codecOf[VR](t, o.valueCodec, nil, "value")}
}

// joinSide is one side of a stream-stream join: it buffers its records in
// own and joins each with the records of other in [t-before, t+after].
type joinSide[K any] struct {
	own, other           string
	before, after, grace int64
	// keep: the side's records that joined nothing give a result when
	// they leave the buffer (the left side of a left join, both sides
	// of an outer join); markOther: the other side keeps its records, so
	// they are marked when they join.
	keep, markOther bool
	kc              Codec[K]
	encode          func(v any) ([]byte, error)
	joined          func(k K, v any, other []byte) (any, error)
	alone           func(k K, own []byte) (any, error)
}

func (s joinSide[K]) newProc(tk *task, n *node) (procFunc, error) {
	own, other := tk.stores[s.own], tk.stores[s.other]
	// A record at t can join no more once the other side's records can
	// no longer come: those after t+after, once t+after+grace is behind
	// the watermark.
	tk.onWatermark = append(tk.onWatermark, func(tk *task, wm int64) error {
		return bufferExpire(own, wm-s.after-s.grace-1, func(key []byte, ts int64, e bufferEntry) error {
			if !s.keep || e.matched {
				return nil
			}
			k, err := s.kc.Decode(key)
			if err != nil {
				return fmt.Errorf("join %s: decode key: %w", n.name, err)
			}
			v, err := s.alone(k, e.value)
			if err != nil {
				return fmt.Errorf("join %s: decode: %w", n.name, err)
			}
			return tk.forward(n, rec{key: k, value: v, ts: ts})
		})
	})
	return func(tk *task, r rec) error {
		if r.ts+s.grace < tk.watermark {
			tk.late++
			return nil
		}
		k := as[K](r.key)
		key, err := s.kc.Encode(k)
		if err != nil {
			return fmt.Errorf("join %s: encode key: %w", n.name, err)
		}
		type list struct {
			ts      int64
			entries []bufferEntry
		}
		var lists []list
		var decodeErr error
		err = other.windows.Fetch(key, r.ts-s.before, r.ts+s.after, func(ts int64, v []byte) bool {
			entries, err := decodeBuffer(append([]byte(nil), v...))
			decodeErr = err
			lists = append(lists, list{ts, entries})
			return err == nil
		})
		if err = firstErr(err, decodeErr); err != nil {
			return fmt.Errorf("join %s: %w", n.name, err)
		}
		for _, l := range lists {
			marked := false
			for i, e := range l.entries {
				v, err := s.joined(k, r.value, e.value)
				if err != nil {
					return fmt.Errorf("join %s: decode: %w", n.name, err)
				}
				if err := tk.forward(n, rec{key: k, value: v, ts: max(r.ts, l.ts), headers: r.headers}); err != nil {
					return err
				}
				if s.markOther && !e.matched {
					l.entries[i].matched, marked = true, true
				}
			}
			if marked {
				if err := other.putWindow(key, l.ts, encodeBuffer(l.entries)); err != nil {
					return err
				}
			}
		}
		value, err := s.encode(r.value)
		if err != nil {
			return fmt.Errorf("join %s: encode: %w", n.name, err)
		}
		return bufferAppend(own, key, r.ts, bufferEntry{matched: len(lists) > 0, value: value})
	}, nil
}

// firstErr returns the first error that is not nil.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
