package flow

import (
	"encoding/binary"
	"fmt"
	"time"
)

// TimeWindows are fixed-size windows of event time: tumbling (each event
// in one window) when Advance equals Size, hopping (overlapping, each
// event in Size/Advance windows) when it is smaller. Windows start at
// multiples of Advance since the Unix epoch and include their start, not
// their end. A window closes when the watermark passes its end plus
// Grace; records that belong only to closed windows are late.
type TimeWindows struct {
	Size, Advance, Grace time.Duration
}

// Tumbling returns windows of size, one after the other, with no grace.
func Tumbling(size time.Duration) TimeWindows { return TimeWindows{Size: size, Advance: size} }

// Hopping returns windows of size starting every advance, with no grace.
func Hopping(size, advance time.Duration) TimeWindows {
	return TimeWindows{Size: size, Advance: advance}
}

// WithGrace returns the windows with a grace period: how long after its
// end (in event time) a window still takes late records.
func (w TimeWindows) WithGrace(grace time.Duration) TimeWindows {
	w.Grace = grace
	return w
}

// check reports windows that cannot be.
func (w TimeWindows) check() error {
	if w.Size < time.Millisecond || w.Advance < time.Millisecond || w.Advance > w.Size || w.Grace < 0 {
		return fmt.Errorf("flow: windows of size %v advancing by %v with grace %v: want 0 < advance <= size, grace >= 0", w.Size, w.Advance, w.Grace)
	}
	return nil
}

// starts returns the starts of the windows holding event time ts, oldest
// first.
func (w TimeWindows) starts(ts int64) []int64 {
	size, adv := w.Size.Milliseconds(), w.Advance.Milliseconds()
	last := ts - mod(ts, adv)
	var out []int64
	for s := last - size + adv; s <= last; s += adv {
		if s+size > ts {
			out = append(out, s)
		}
	}
	return out
}

// mod is the remainder of a divided by b, in [0, b).
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// SessionWindows group a key's events into sessions of activity: an event
// within Gap of a session joins it (merging sessions it bridges), else it
// starts one. A session closes when the watermark passes its end plus Gap
// plus Grace.
type SessionWindows struct {
	Gap, Grace time.Duration
}

// Sessions returns session windows with an inactivity gap and no grace.
func Sessions(gap time.Duration) SessionWindows { return SessionWindows{Gap: gap} }

// WithGrace returns the sessions with a grace period.
func (w SessionWindows) WithGrace(grace time.Duration) SessionWindows {
	w.Grace = grace
	return w
}

// Window is a window of event time, [Start, End) for time windows; a
// session's End is its last event's time.
type Window struct {
	Start, End time.Time
}

// Windowed is the key of a windowed aggregate: the grouping key and the
// window.
type Windowed[K any] struct {
	Key    K
	Window Window
}

// WindowedCodec encodes a windowed key: the key as kc encodes it, then
// the window's start and end as 8-byte big-endian Unix milliseconds.
func WindowedCodec[K any](kc Codec[K]) Codec[Windowed[K]] { return windowedCodec[K]{kc} }

type windowedCodec[K any] struct{ kc Codec[K] }

func (c windowedCodec[K]) Encode(w Windowed[K]) ([]byte, error) {
	b, err := c.kc.Encode(w.Key)
	if err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint64(append([]byte(nil), b...), uint64(w.Window.Start.UnixMilli()))
	return binary.BigEndian.AppendUint64(b, uint64(w.Window.End.UnixMilli())), nil
}

func (c windowedCodec[K]) Decode(b []byte) (Windowed[K], error) {
	if len(b) < 16 {
		return Windowed[K]{}, fmt.Errorf("flow: a windowed key is at least 16 bytes, got %d", len(b))
	}
	n := len(b) - 16
	k, err := c.kc.Decode(b[:n])
	if err != nil {
		return Windowed[K]{}, err
	}
	start := int64(binary.BigEndian.Uint64(b[n:]))
	end := int64(binary.BigEndian.Uint64(b[n+8:]))
	return Windowed[K]{Key: k, Window: Window{Start: time.UnixMilli(start), End: time.UnixMilli(end)}}, nil
}

// EmitFinal makes a windowed aggregation emit each window's result once,
// when the window closes, instead of on every update; results are held in
// the aggregation's store meanwhile, never in memory.
func EmitFinal() Option { return optionFunc(func(o *options) { o.emitFinal = true }) }

// LateTo sends the records a windowed aggregation drops as late to a
// topic, encoded with the stream's codecs (a side output); they are
// counted either way.
func LateTo(topic string) Option { return optionFunc(func(o *options) { o.lateTopic = topic }) }
