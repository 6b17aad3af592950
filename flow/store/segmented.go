package store

// The layout shared by windowed and session stores.
//
// An entry is identified by a user key, a time (a window's start, a
// session's end) and, for sessions, an extra time (the session's start).
// Each entry is written twice, in one batch (keys.go gives the bytes):
//
//   - in the windows area, by segment of its time, then key, then time:
//     what Get and a fetch by key read, seeking once per live segment;
//   - in the time index, by time, then key: what FetchAll reads, in time
//     order, getting each value from the windows area.
//
// Expiry is by stream time: entries whose time is before the cutoff
// (stream time - retention) are expired. Reads skip them at once; they are
// removed from disk a segment at a time, by two range deletions, when the
// cutoff passes a segment's end, so that Pebble holds few range
// tombstones and drops whole files. A segment is half the retention (at
// least a minute), so at most about three are live. The segment interval
// is kept in the store's record: the layout depends on it, the retention
// may change.

import (
	"bytes"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

const minSegmentInterval = int64(time.Minute / time.Millisecond)

// segmentInterval returns the segment interval for a retention in ms.
func segmentInterval(retention int64) int64 {
	return max(retention/2, minSegmentInterval)
}

// segmented holds the entries of a windowed or session store.
type segmented struct {
	db        *DB
	name      string
	clock     *streamClock
	windows   []byte // prefix of the windows area
	times     []byte // prefix of the time index
	retention int64  // ms, > 0
	interval  int64  // segment length, ms
	withExtra bool   // entries have an extra time (sessions)

	// dropped is the first segment not yet removed from disk.
	// Owned by the store's writer.
	dropped int64
}

// openSegmented opens store name of kind k.
func (db *DB) openSegmented(name string, k kind, retention time.Duration) (*segmented, error) {
	ms := retention.Milliseconds()
	if ms <= 0 {
		return nil, fmt.Errorf("store: %s store %s: retention %v is under a millisecond", k, name, retention)
	}
	r, clock, err := db.openStore(name, k, segmentInterval(ms))
	if err != nil {
		return nil, err
	}
	if r.interval <= 0 {
		return nil, fmt.Errorf("store: %s store %s: corrupt segment interval %d", k, name, r.interval)
	}
	prefix := dataPrefix(r.id)
	return &segmented{
		db:        db,
		name:      name,
		clock:     clock,
		windows:   area(prefix, areaWindows),
		times:     area(prefix, areaTimes),
		retention: ms,
		interval:  r.interval,
		withExtra: k == kindSession,
		dropped:   math.MinInt64,
	}, nil
}

// cutoff returns the earliest time not expired.
func (s *segmented) cutoff() int64 { return minusSaturating(s.clock.time.Load(), s.retention) }

// segmentPrefix returns the windows-area prefix of key's entries in a
// segment.
func (s *segmented) segmentPrefix(segment int64, key []byte) []byte {
	b := make([]byte, 0, len(s.windows)+timeSize+4+len(key)+2*timeSize)
	b = appendTime(append(b, s.windows...), segment)
	return appendUserKey(b, key)
}

func (s *segmented) windowKey(key []byte, t, extra int64) []byte {
	b := appendTime(s.segmentPrefix(floorDiv(t, s.interval), key), t)
	if s.withExtra {
		b = appendTime(b, extra)
	}
	return b
}

func (s *segmented) timeKey(t int64, key []byte, extra int64) []byte {
	b := make([]byte, 0, len(s.times)+timeSize+4+len(key)+timeSize)
	b = appendUserKey(appendTime(append(b, s.times...), t), key)
	if s.withExtra {
		b = appendTime(b, extra)
	}
	return b
}

// suffixSize is the size of what follows the user key in both areas.
func (s *segmented) suffixSize() int {
	if s.withExtra {
		return 2 * timeSize
	}
	return timeSize
}

// decodeWindowKey decodes a key of the windows area.
func (s *segmented) decodeWindowKey(k []byte) (segment int64, key []byte, t, extra int64, err error) {
	b := k[len(s.windows):]
	if len(b) < timeSize {
		return 0, nil, 0, 0, fmt.Errorf("corrupt key %x in %s", k, s.name)
	}
	segment = readTime(b)
	key, rest, ok := readUserKey(b[timeSize:])
	if !ok || len(rest) != s.suffixSize() {
		return 0, nil, 0, 0, fmt.Errorf("corrupt key %x in %s", k, s.name)
	}
	t = readTime(rest)
	if s.withExtra {
		extra = readTime(rest[timeSize:])
	}
	return segment, key, t, extra, nil
}

// decodeTimeKey decodes a key of the time index.
func (s *segmented) decodeTimeKey(k []byte) (t int64, key []byte, extra int64, err error) {
	b := k[len(s.times):]
	if len(b) < timeSize {
		return 0, nil, 0, fmt.Errorf("corrupt time index key %x in %s", k, s.name)
	}
	t = readTime(b)
	key, rest, ok := readUserKey(b[timeSize:])
	if !ok || len(rest) != s.suffixSize()-timeSize {
		return 0, nil, 0, fmt.Errorf("corrupt time index key %x in %s", k, s.name)
	}
	if s.withExtra {
		extra = readTime(rest)
	}
	return t, key, extra, nil
}

// put writes an entry (a nil value deletes it), advancing the stream time
// to its time; applied is false if the entry has expired, and then
// nothing is written. Segments that the stream time leaves behind are
// removed in the same batch.
// REQUIRES: called by the store's writer only.
func (s *segmented) put(key []byte, t, extra int64, value []byte) (applied bool, err error) {
	err = s.putMany(1, func(int) entry { return entry{key, t, extra, value} }, func(_ int, ok bool) { applied = ok })
	return applied, err
}

// entry is an entry to write: a nil value deletes it.
type entry struct {
	key      []byte
	t, extra int64
	value    []byte
}

// putMany writes n entries, entry(i) for i in [0, n), in one batch, as
// put writes one, calling applied(i, ok) with whether each was (ok is
// false when it had expired).
// REQUIRES: called by the store's writer only.
func (s *segmented) putMany(n int, entry func(int) entry, applied func(int, bool)) error {
	if err := s.db.enter(); err != nil {
		return err
	}
	defer s.db.exit()
	b := s.db.pebble.NewBatch()
	defer b.Close()
	var err error
	for i := 0; i < n && err == nil; i++ {
		e := entry(i)
		s.clock.advance(e.t)
		if e.t < s.cutoff() {
			applied(i, false)
			continue
		}
		wk, tk := s.windowKey(e.key, e.t, e.extra), s.timeKey(e.t, e.key, e.extra)
		if e.value == nil {
			err = b.Delete(wk, nil)
			if err == nil {
				err = b.Delete(tk, nil)
			}
		} else {
			err = b.Set(wk, e.value, nil)
			if err == nil {
				err = b.Set(tk, nil, nil)
			}
		}
		applied(i, true)
	}
	if err == nil {
		err = s.dropExpired(b)
	}
	if err == nil && !b.Empty() {
		err = b.Commit(s.db.write)
	}
	if err != nil {
		return fmt.Errorf("write to %s: %w", s.name, err)
	}
	return nil
}

// expire advances the stream time and removes the segments left behind.
// REQUIRES: called by the store's writer only.
func (s *segmented) expire(streamTime int64) error {
	if streamTime > s.clock.time.Load() {
		// Segments may go, which the checkpoint's stream time keeps.
		if err := s.db.beginWrite(); err != nil {
			return err
		}
	}
	if err := s.db.enter(); err != nil {
		return err
	}
	defer s.db.exit()
	s.clock.advance(streamTime)
	b := s.db.pebble.NewBatch()
	defer b.Close()
	err := s.dropExpired(b)
	if err == nil && !b.Empty() {
		err = b.Commit(s.db.write)
	}
	if err != nil {
		return fmt.Errorf("expire in %s: %w", s.name, err)
	}
	return nil
}

// dropExpired adds to b the removal of the segments wholly before the
// cutoff, if there are any not removed yet.
// REQUIRES: called by the store's writer only.
func (s *segmented) dropExpired(b *pebble.Batch) error {
	cutoff := s.cutoff()
	if cutoff < math.MinInt64+s.interval {
		return nil // nothing expired yet; and segment*interval below fits
	}
	segment := floorDiv(cutoff, s.interval) // the first segment still live
	if segment <= s.dropped {
		return nil
	}
	if err := b.DeleteRange(s.windows, appendTime(bytes.Clone(s.windows), segment), nil); err != nil {
		return err
	}
	if err := b.DeleteRange(s.times, appendTime(bytes.Clone(s.times), segment*s.interval), nil); err != nil {
		return err
	}
	s.dropped = segment
	return nil
}

// get returns the value of an entry not expired.
func (s *segmented) get(key []byte, t, extra int64) ([]byte, bool, error) {
	if err := s.db.enter(); err != nil {
		return nil, false, err
	}
	defer s.db.exit()
	if t < s.cutoff() {
		return nil, false, nil
	}
	v, found, err := s.db.get(s.windowKey(key, t, extra))
	if err != nil {
		return nil, false, fmt.Errorf("get from %s: %w", s.name, err)
	}
	return v, found, nil
}

// fetch calls fn with key's entries not expired whose time is in [from,
// to], by time then extra time, until fn returns false. It seeks once in
// each live segment of the range.
func (s *segmented) fetch(key []byte, from, to int64, fn func(t, extra int64, v []byte) bool) error {
	if err := s.db.enter(); err != nil {
		return err
	}
	defer s.db.exit()
	from = max(from, s.cutoff())
	if from > to {
		return nil
	}
	it, err := s.db.pebble.NewIter(&pebble.IterOptions{LowerBound: s.windows, UpperBound: prefixEnd(s.windows)})
	if err != nil {
		return fmt.Errorf("fetch from %s: %w", s.name, err)
	}
	err = s.fetchIn(it, key, from, to, fn)
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fetch from %s: %w", s.name, err)
	}
	return nil
}

func (s *segmented) fetchIn(it *pebble.Iterator, key []byte, from, to int64, fn func(t, extra int64, v []byte) bool) error {
	last := floorDiv(to, s.interval)
	for segment := floorDiv(from, s.interval); segment <= last; segment++ {
		prefix := s.segmentPrefix(segment, key)
		if !it.SeekGE(appendTime(bytes.Clone(prefix), from)) {
			return nil
		}
		found, _, _, _, err := s.decodeWindowKey(it.Key())
		if err != nil {
			return err
		}
		if found < segment {
			return fmt.Errorf("corrupt key %x in %s: segment %d sorts after %d", it.Key(), s.name, found, segment)
		}
		if found > segment {
			// No entry of key in this segment: go on at the next segment
			// that exists (the loop's increment is undone).
			if found > last {
				return nil
			}
			segment = found - 1
			continue
		}
		for ; it.Valid() && bytes.HasPrefix(it.Key(), prefix); it.Next() {
			_, _, t, extra, err := s.decodeWindowKey(it.Key())
			if err != nil {
				return err
			}
			if t > to {
				return nil
			}
			v, err := it.ValueAndErr()
			if err != nil {
				return err
			}
			if !fn(t, extra, v) {
				return nil
			}
		}
	}
	return nil
}

// fetchAll calls fn with every entry not expired whose time is in [from,
// to], by time, then key, then extra time, until fn returns false. It
// reads a snapshot: the store as of one moment.
func (s *segmented) fetchAll(from, to int64, fn func(key []byte, t, extra int64, v []byte) bool) error {
	if err := s.db.enter(); err != nil {
		return err
	}
	defer s.db.exit()
	from = max(from, s.cutoff())
	if from > to {
		return nil
	}
	snap := s.db.pebble.NewSnapshot()
	defer snap.Close()
	upper := prefixEnd(s.times)
	if to < math.MaxInt64 {
		upper = appendTime(bytes.Clone(s.times), to+1)
	}
	it, err := snap.NewIter(&pebble.IterOptions{
		LowerBound: appendTime(bytes.Clone(s.times), from),
		UpperBound: upper,
	})
	if err != nil {
		return fmt.Errorf("fetch all from %s: %w", s.name, err)
	}
	err = s.fetchAllIn(snap, it, fn)
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fetch all from %s: %w", s.name, err)
	}
	return nil
}

func (s *segmented) fetchAllIn(snap *pebble.Snapshot, it *pebble.Iterator, fn func(key []byte, t, extra int64, v []byte) bool) error {
	// The values are read with one iterator over the windows area,
	// which keeps the blocks it loaded from one entry to the next, where
	// a Get per entry would open (and read the index of) each file anew.
	values, err := snap.NewIter(&pebble.IterOptions{LowerBound: s.windows, UpperBound: prefixEnd(s.windows)})
	if err != nil {
		return err
	}
	defer values.Close()
	for it.First(); it.Valid(); it.Next() {
		t, key, extra, err := s.decodeTimeKey(it.Key())
		if err != nil {
			return err
		}
		wk := s.windowKey(key, t, extra)
		if !values.SeekGE(wk) || !bytes.Equal(values.Key(), wk) {
			if err := values.Error(); err != nil {
				return err
			}
			return fmt.Errorf("time index of %s lists %x at %d, absent", s.name, key, t)
		}
		v, err := values.ValueAndErr()
		if err != nil {
			return err
		}
		if !fn(key, t, extra, v) {
			return nil
		}
	}
	return nil
}
