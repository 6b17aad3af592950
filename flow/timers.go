package flow

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// timerService keeps the timers of a processor in a task, in a key-value
// store of its own backed by a changelog. A timer's key in the store is
//
//	domain (1 byte: 0 event time, 1 processing time)
//	due time (8 bytes: Unix milliseconds, big-endian, sign bit flipped,
//	          so that keys sort by time)
//	the timer's key, encoded with the stream's key codec
//
// and its value is empty. next caches each domain's earliest due time, so
// that a watermark advance or a wall-clock tick with nothing due costs a
// comparison rather than a read; floor bounds each domain's reads from
// below, so that they do not walk the tombstones of timers fired before.
type timerService[K any] struct {
	tk   *task
	st   *taskStore
	kc   Codec[K]
	fire func(Timer[K]) error
	// next is each domain's earliest due time (math.MaxInt64: none),
	// valid when known: it is read from the store on first use, after
	// the task's stores are restored.
	next  [2]int64
	known [2]bool
	// floor is at or below the due time of each domain's every timer:
	// timers fire in time order, so a firing raises it past what it
	// fired; a timer set below it lowers it.
	floor [2]int64
}

func newTimerService[K any](tk *task, st *taskStore, kc Codec[K], fire func(Timer[K]) error) (*timerService[K], error) {
	if st == nil {
		return nil, fmt.Errorf("flow: the timer store of a processor is missing")
	}
	s := &timerService[K]{tk: tk, st: st, kc: kc, fire: fire, floor: [2]int64{math.MinInt64, math.MinInt64}}
	tk.onWatermark = append(tk.onWatermark, func(_ *task, wm int64) error { return s.fireDue(EventTime, wm) })
	tk.onWallClock = append(tk.onWallClock, func(_ *task, now time.Time) error {
		return s.fireDue(ProcessingTime, now.UnixMilli())
	})
	return s, nil
}

// timerKey is a timer's key in the store (all of it when key is nil: the
// start of the timers due at ts).
func timerKey(d TimeDomain, ts int64, key []byte) []byte {
	b := make([]byte, 0, 9+len(key))
	b = append(b, byte(d))
	b = binary.BigEndian.AppendUint64(b, uint64(ts)^(1<<63))
	return append(b, key...)
}

// encodeKey encodes a timer's key.
func (s *timerService[K]) encodeKey(key K) ([]byte, error) {
	if s.kc == nil {
		return nil, fmt.Errorf("flow: timers need the key codec of the processor's stream: %w", errNilCodec)
	}
	return s.kc.Encode(key)
}

// set sets a timer.
func (s *timerService[K]) set(d TimeDomain, key K, at int64) error {
	k, err := s.encodeKey(key)
	if err != nil {
		return err
	}
	if err := s.st.put(timerKey(d, at, k), []byte{}); err != nil {
		return err
	}
	s.floor[d] = min(s.floor[d], at)
	if s.known[d] && at < s.next[d] {
		s.next[d] = at
	}
	if d == EventTime && at <= s.tk.watermark {
		s.tk.timersDue = true
	}
	return nil
}

// remove deletes a timer.
func (s *timerService[K]) remove(d TimeDomain, key K, at int64) error {
	k, err := s.encodeKey(key)
	if err != nil {
		return err
	}
	return s.st.put(timerKey(d, at, k), nil)
}

// fireDue fires the timers of domain d due at or before upTo, in order of
// time, and those they set that are due too.
func (s *timerService[K]) fireDue(d TimeDomain, upTo int64) error {
	for {
		if !s.known[d] {
			next, err := s.earliest(d)
			if err != nil {
				return err
			}
			s.next[d], s.known[d] = next, true
		}
		if s.next[d] > upTo {
			return nil
		}
		due, err := s.due(d, upTo)
		if err != nil {
			return err
		}
		if len(due) == 0 {
			return nil // none left (upTo is math.MaxInt64 at the end of input)
		}
		s.known[d] = false // read again after firing: timers may be set
		switch {
		case len(due) < timerBatch:
			// Every timer due by upTo is in due; those set while they
			// fire lower the floor again.
			s.floor[d] = max(s.floor[d], min(upTo, math.MaxInt64-1)+1)
		default:
			s.floor[d] = max(s.floor[d], dueTime(due[len(due)-1]))
		}
		for _, k := range due {
			if err := s.st.put(k, nil); err != nil {
				return err
			}
			at := dueTime(k)
			key, err := s.kc.Decode(k[9:])
			if err != nil {
				return fmt.Errorf("flow: decode a timer's key: %w", err)
			}
			if err := s.fireOne(Timer[K]{Key: key, Time: time.UnixMilli(at), Domain: d}); err != nil {
				return err
			}
		}
	}
}

// fireOne calls the processor's OnTimer with the task's current record
// set to the timer, whose time changelog records then carry.
func (s *timerService[K]) fireOne(tm Timer[K]) error {
	saved := s.tk.current
	s.tk.current = &rec{ts: tm.Time.UnixMilli()}
	defer func() { s.tk.current = saved }()
	return s.fire(tm)
}

// timerBatch bounds how many timers one read of the store returns.
const timerBatch = 1024

// due returns the store keys of up to timerBatch timers of domain d due
// at or before upTo.
func (s *timerService[K]) due(d TimeDomain, upTo int64) ([][]byte, error) {
	to := timerKey(d+1, math.MinInt64, nil)
	if upTo < math.MaxInt64 {
		to = timerKey(d, upTo+1, nil)
	}
	var keys [][]byte
	err := s.st.kv.Range(timerKey(d, s.floor[d], nil), to, func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return len(keys) < timerBatch
	})
	return keys, err
}

// earliest returns the due time of domain d's first timer
// (math.MaxInt64: none).
func (s *timerService[K]) earliest(d TimeDomain) (int64, error) {
	next := int64(math.MaxInt64)
	err := s.st.kv.Range(timerKey(d, s.floor[d], nil), timerKey(d+1, math.MinInt64, nil), func(k, _ []byte) bool {
		next = dueTime(k)
		return false
	})
	return next, err
}

// dueTime returns the due time in a timer's store key.
func dueTime(k []byte) int64 { return int64(binary.BigEndian.Uint64(k[1:9]) ^ (1 << 63)) }
