package store

// A versioned store keeps, per key, a sequence of versions: a value (or a
// deletion) valid from a time until the next version's. In Pebble, a key's
// versions are contiguous, newest first (keys.go), so that the version
// valid at a time is one seek away, and a write out of order is one more
// version: its end is implicit, the valid-from of the next newer one.
//
// History is kept for historyRetention of stream time: with cutoff =
// stream time - historyRetention, reads as of a time before the cutoff
// find nothing, and writes valid from before it are dropped (as Kafka
// Streams drops them: were they kept, a deletion removed from disk could
// not stop them from becoming the latest). A version is no longer needed
// once its successor's valid-from, or its own if it is a deletion with no
// successor, is at or before the cutoff; the expiry index lists versions
// by that drop time. Versions are removed from disk when the cutoff has
// moved by a step (half the retention, at least a minute) since the last
// removal, a range of the expiry index at a time; each removal is logged as
// a nil value, so that compaction removes the version's changelog record.

import (
	"bytes"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Versioned is a versioned key-value store: the values of a key over
// time (Unix milliseconds), as of any time within a history retention.
// Its stream time is the latest of the times given to Expire and the
// valid-from times written or restored.
type Versioned struct {
	db        *DB
	name      string
	log       Logger
	clock     *streamClock
	versions  []byte // prefix of the versions area
	expiry    []byte // prefix of the expiry index
	retention int64  // history retention, ms, >= 0
	step      int64  // ms the cutoff moves between removals from disk

	// dropped is the cutoff of the last removal from disk.
	// Owned by the store's writer.
	dropped int64
}

// version is what a read of one version finds.
type version struct {
	exists    bool
	validFrom int64
	deleted   bool
}

// Versioned opens the versioned store name, creating it if it is new;
// historyRetention (0 or more) is how long past versions are kept in
// stream time; log receives its changes (nil: not logged).
func (db *DB) Versioned(name string, historyRetention time.Duration, log Logger) (*Versioned, error) {
	ms := historyRetention.Milliseconds()
	if ms < 0 {
		return nil, fmt.Errorf("store: versioned store %s: negative history retention %v", name, historyRetention)
	}
	r, clock, err := db.openStore(name, kindVersioned, 0)
	if err != nil {
		return nil, err
	}
	prefix := dataPrefix(r.id)
	return &Versioned{
		db:        db,
		name:      name,
		log:       log,
		clock:     clock,
		versions:  area(prefix, areaVersions),
		expiry:    area(prefix, areaExpiry),
		retention: ms,
		step:      segmentInterval(ms),
		dropped:   math.MinInt64,
	}, nil
}

// Name returns the store's name.
func (s *Versioned) Name() string { return s.name }

// StreamTime returns the store's stream time (math.MinInt64 before any).
func (s *Versioned) StreamTime() int64 { return s.clock.time.Load() }

func (s *Versioned) cutoff() int64 { return minusSaturating(s.clock.time.Load(), s.retention) }

// keyPrefix is the prefix of key's versions.
func (s *Versioned) keyPrefix(key []byte) []byte {
	b := make([]byte, 0, len(s.versions)+4+len(key)+timeSize)
	return appendUserKey(append(b, s.versions...), key)
}

func (s *Versioned) versionKey(key []byte, validFrom int64) []byte {
	return appendTimeDescending(s.keyPrefix(key), validFrom)
}

func (s *Versioned) expiryKey(dropTime int64, key []byte, validFrom int64) []byte {
	b := make([]byte, 0, len(s.expiry)+timeSize+4+len(key)+timeSize)
	b = appendUserKey(appendTime(append(b, s.expiry...), dropTime), key)
	return appendTime(b, validFrom)
}

// Put writes the version of key valid from validFrom: value, or a
// deletion if value is nil. It advances the stream time to validFrom; a
// version valid from before stream time - historyRetention is dropped (not
// applied, not logged).
func (s *Versioned) Put(key []byte, validFrom int64, value []byte) error {
	if err := s.db.beginWrite(); err != nil {
		return err
	}
	applied, err := s.put(key, validFrom, value)
	if err != nil || !applied {
		return err
	}
	if s.log != nil {
		s.log(Change{Key: versionedChangelogKey(key, validFrom), Value: encodeVersion(value), Timestamp: validFrom})
	}
	return s.dropExpired(s.log)
}

// Get returns the latest version of key: its value (a copy) and
// valid-from time; see GetAsOf.
func (s *Versioned) Get(key []byte) (value []byte, validFrom int64, found bool, err error) {
	return s.GetAsOf(key, math.MaxInt64)
}

// GetAsOf returns the version of key valid at ts, the one with the latest
// valid-from at or before ts: its value (a copy) and valid-from time. It
// is not found if that version is a deletion, validFrom then being the
// deletion's; or if there is none, validFrom then being math.MinInt64:
// the key never written, ts before the history kept (which starts at
// stream time - historyRetention), or a deletion valid from the start of
// the history kept or before, which reads as if it had been removed.
func (s *Versioned) GetAsOf(key []byte, ts int64) (value []byte, validFrom int64, found bool, err error) {
	if err := s.db.enter(); err != nil {
		return nil, 0, false, err
	}
	defer s.db.exit()
	cutoff := s.cutoff()
	if ts < cutoff {
		return nil, math.MinInt64, false, nil
	}
	prefix := s.keyPrefix(key)
	it, err := s.db.pebble.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, 0, false, fmt.Errorf("get from %s: %w", s.name, err)
	}
	defer it.Close()
	if !it.SeekGE(appendTimeDescending(bytes.Clone(prefix), ts)) {
		if err := it.Error(); err != nil {
			return nil, 0, false, fmt.Errorf("get from %s: %w", s.name, err)
		}
		return nil, math.MinInt64, false, nil
	}
	v, value, err := s.read(it)
	if err != nil {
		return nil, 0, false, fmt.Errorf("get from %s: %w", s.name, err)
	}
	if v.deleted {
		if v.validFrom <= cutoff {
			// A deletion that may be removed from disk reads as if it
			// were, whether it has been yet or not.
			return nil, math.MinInt64, false, nil
		}
		return nil, v.validFrom, false, nil
	}
	return bytes.Clone(value), v.validFrom, true, nil
}

// Expire advances the stream time to streamTime if it is later: history
// before streamTime - historyRetention is no longer kept. The versions
// removed from disk are logged as nil values.
func (s *Versioned) Expire(streamTime int64) error {
	if streamTime > s.clock.time.Load() {
		if err := s.db.beginWrite(); err != nil {
			return err
		}
	}
	s.clock.advance(streamTime)
	return s.dropExpired(s.log)
}

// Restore applies a changelog record without reporting it: a version
// (advancing the stream time, dropped if expired, as Put), or, for a nil
// value, the removal of an expired version. After restoring, call Expire
// with the task's stream time.
func (s *Versioned) Restore(c Change) error {
	key, validFrom, err := decodeVersionedChangelogKey(c.Key)
	if err != nil {
		return err
	}
	if c.Value == nil {
		return s.remove(key, validFrom)
	}
	value, _, err := decodeVersion(c.Value)
	if err != nil {
		return err
	}
	if _, err := s.put(key, validFrom, value); err != nil {
		return err
	}
	return s.dropExpired(nil)
}

// read decodes the version at the iterator, and its value.
func (s *Versioned) read(it *pebble.Iterator) (version, []byte, error) {
	k := it.Key()
	if len(k) < timeSize {
		return version{}, nil, fmt.Errorf("corrupt version key %x", k)
	}
	raw, err := it.ValueAndErr()
	if err != nil {
		return version{}, nil, err
	}
	value, deleted, err := decodeVersion(raw)
	if err != nil {
		return version{}, nil, fmt.Errorf("corrupt version %x: %v", k, err)
	}
	return version{exists: true, validFrom: readTimeDescending(k[len(k)-timeSize:]), deleted: deleted}, value, nil
}

// neighbours returns, among key's versions, the next newer than
// validFrom, the one at validFrom and the next older.
func (s *Versioned) neighbours(key []byte, validFrom int64) (newer, at, older version, err error) {
	prefix := s.keyPrefix(key)
	it, err := s.db.pebble.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return newer, at, older, err
	}
	defer it.Close()
	target := appendTimeDescending(bytes.Clone(prefix), validFrom)
	if it.SeekLT(target) {
		if newer, _, err = s.read(it); err != nil {
			return newer, at, older, err
		}
	}
	if it.SeekGE(target) {
		v, _, err := s.read(it)
		if err != nil {
			return newer, at, older, err
		}
		if v.validFrom != validFrom {
			return newer, at, v, nil
		}
		at = v
		if it.Next() {
			if older, _, err = s.read(it); err != nil {
				return newer, at, older, err
			}
		}
	}
	return newer, at, older, it.Error()
}

// dropTime returns when v is no longer needed, given the next newer
// version: at the newer's valid-from, or, for a deletion without one, at
// its own; ok is false for a latest value, always needed.
func dropTime(v, newer version) (t int64, ok bool) {
	switch {
	case newer.exists:
		return newer.validFrom, true
	case v.deleted:
		return v.validFrom, true
	}
	return 0, false
}

// put writes a version (a nil value: a deletion) and updates the expiry
// index; applied is false if the version is expired, and then nothing is
// written.
// REQUIRES: called by the store's writer only.
func (s *Versioned) put(key []byte, validFrom int64, value []byte) (applied bool, err error) {
	if err := s.db.enter(); err != nil {
		return false, err
	}
	defer s.db.exit()
	s.clock.advance(validFrom)
	if validFrom < s.cutoff() {
		return false, nil
	}
	newer, at, older, err := s.neighbours(key, validFrom)
	if err != nil {
		return false, fmt.Errorf("write to %s: %w", s.name, err)
	}
	b := s.db.pebble.NewBatch()
	defer b.Close()
	written := version{exists: true, validFrom: validFrom, deleted: value == nil}
	err = b.Set(s.versionKey(key, validFrom), encodeVersion(value), nil)
	if err == nil && at.exists {
		err = s.deleteExpiry(b, key, at, newer)
	}
	if err == nil {
		err = s.addExpiry(b, key, written, newer)
	}
	if err == nil && !at.exists && older.exists {
		// older ended at newer (or never); it now ends at validFrom.
		err = s.deleteExpiry(b, key, older, newer)
		if err == nil {
			err = s.addExpiry(b, key, older, written)
		}
	}
	if err == nil {
		err = b.Commit(s.db.write)
	}
	if err != nil {
		return false, fmt.Errorf("write to %s: %w", s.name, err)
	}
	return true, nil
}

// remove removes the version of key valid from validFrom, if there is
// one, and updates the expiry index.
// REQUIRES: called by the store's writer only.
func (s *Versioned) remove(key []byte, validFrom int64) error {
	if err := s.db.enter(); err != nil {
		return err
	}
	defer s.db.exit()
	newer, at, older, err := s.neighbours(key, validFrom)
	if err != nil || !at.exists {
		return err
	}
	b := s.db.pebble.NewBatch()
	defer b.Close()
	err = b.Delete(s.versionKey(key, validFrom), nil)
	if err == nil {
		err = s.deleteExpiry(b, key, at, newer)
	}
	if err == nil && older.exists {
		// older ended at validFrom; it now ends at newer (or never).
		err = s.deleteExpiry(b, key, older, at)
		if err == nil {
			err = s.addExpiry(b, key, older, newer)
		}
	}
	if err == nil {
		err = b.Commit(s.db.write)
	}
	if err != nil {
		return fmt.Errorf("remove from %s: %w", s.name, err)
	}
	return nil
}

// addExpiry adds the expiry index entry of version v whose next newer
// version is newer, if it has one. In a batch, a deleteExpiry then an
// addExpiry of the same entry leave it.
func (s *Versioned) addExpiry(b *pebble.Batch, key []byte, v, newer version) error {
	if t, ok := dropTime(v, newer); ok {
		return b.Set(s.expiryKey(t, key, v.validFrom), nil, nil)
	}
	return nil
}

// deleteExpiry deletes the expiry index entry of version v whose next
// newer version is newer.
func (s *Versioned) deleteExpiry(b *pebble.Batch, key []byte, v, newer version) error {
	if t, ok := dropTime(v, newer); ok {
		return b.Delete(s.expiryKey(t, key, v.validFrom), nil)
	}
	return nil
}

// dropExpired removes from disk the versions no longer needed, if the
// cutoff has moved by a step since the last removal, and reports each
// removal to log (nil: not reported).
// REQUIRES: called by the store's writer only.
func (s *Versioned) dropExpired(log Logger) error {
	cutoff := s.cutoff()
	if cutoff == math.MinInt64 || minusSaturating(cutoff, s.step) < s.dropped {
		return nil
	}
	removed, err := s.removeExpired(cutoff)
	if err != nil {
		return fmt.Errorf("expire in %s: %w", s.name, err)
	}
	s.dropped = cutoff
	if log != nil {
		for _, c := range removed {
			log(c)
		}
	}
	return nil
}

// removeExpired removes the versions whose drop time is at or before
// cutoff and their expiry index entries; it returns the removals as
// changelog records.
func (s *Versioned) removeExpired(cutoff int64) ([]Change, error) {
	if err := s.db.enter(); err != nil {
		return nil, err
	}
	defer s.db.exit()
	upper := prefixEnd(s.expiry)
	if cutoff < math.MaxInt64 {
		upper = appendTime(bytes.Clone(s.expiry), cutoff+1)
	}
	it, err := s.db.pebble.NewIter(&pebble.IterOptions{LowerBound: s.expiry, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	b := s.db.pebble.NewBatch()
	defer b.Close()
	var removed []Change
	for it.First(); it.Valid(); it.Next() {
		key, validFrom, err := s.decodeExpiryKey(it.Key())
		if err != nil {
			return nil, err
		}
		if err := b.Delete(s.versionKey(key, validFrom), nil); err != nil {
			return nil, err
		}
		removed = append(removed, Change{Key: versionedChangelogKey(key, validFrom), Timestamp: validFrom})
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	if len(removed) == 0 {
		return nil, nil
	}
	if err := b.DeleteRange(s.expiry, upper, nil); err != nil {
		return nil, err
	}
	return removed, b.Commit(s.db.write)
}

// decodeExpiryKey decodes a key of the expiry index.
func (s *Versioned) decodeExpiryKey(k []byte) (key []byte, validFrom int64, err error) {
	b := k[len(s.expiry):]
	if len(b) < timeSize {
		return nil, 0, fmt.Errorf("corrupt expiry key %x", k)
	}
	key, rest, ok := readUserKey(b[timeSize:])
	if !ok || len(rest) != timeSize {
		return nil, 0, fmt.Errorf("corrupt expiry key %x", k)
	}
	return key, readTime(rest), nil
}
