package store

import (
	"fmt"
	"math"
	"time"
)

// Session is a session store: values by key and session (a start and an
// end time, Unix milliseconds, start <= end), kept for a retention period
// of stream time after the session's end.
//
// Expiry is by end as Windowed's is by start: the store's stream time is
// the latest of the times given to Expire and the session ends written or
// restored, and a session whose end is before stream time - retention has
// expired.
type Session struct {
	s   *segmented
	log Logger
}

// Session opens the session store name, creating it if it is new;
// retention (a millisecond at least) is how long a session is kept after
// stream time passes its end; log receives its changes (nil: not logged).
func (db *DB) Session(name string, retention time.Duration, log Logger) (*Session, error) {
	s, err := db.openSegmented(name, kindSession, retention)
	if err != nil {
		return nil, err
	}
	return &Session{s: s, log: log}, nil
}

// Name returns the store's name.
func (s *Session) Name() string { return s.s.name }

// StreamTime returns the store's stream time (math.MinInt64 before any).
func (s *Session) StreamTime() int64 { return s.s.clock.time.Load() }

// Put sets the value of key's session [start, end]; a nil value removes
// it (Remove). A write to an expired session is dropped.
func (s *Session) Put(key []byte, start, end int64, value []byte) error {
	if start > end {
		return fmt.Errorf("store: session of %s starts at %d after its end %d", s.s.name, start, end)
	}
	if err := s.s.db.beginWrite(); err != nil {
		return err
	}
	applied, err := s.s.put(key, end, start, value)
	if err != nil || !applied || s.log == nil {
		return err
	}
	s.log(Change{Key: sessionChangelogKey(key, start, end), Value: value, Timestamp: end})
	return nil
}

// Remove removes key's session [start, end], logging a tombstone whether
// it existed or not.
func (s *Session) Remove(key []byte, start, end int64) error { return s.Put(key, start, end, nil) }

// Get returns the value (a copy) of key's session [start, end].
func (s *Session) Get(key []byte, start, end int64) ([]byte, bool, error) {
	return s.s.get(key, end, start)
}

// FindSessions calls fn with key's sessions that end at or after
// earliestEnd and start at or before latestStart, by end then start, until
// fn returns false: with earliestEnd = t - gap and latestStart = t + gap,
// the sessions that a record at t merges with. v is valid until fn
// returns. The sessions are read as of one moment.
func (s *Session) FindSessions(key []byte, earliestEnd, latestStart int64, fn func(start, end int64, v []byte) bool) error {
	return s.s.fetch(key, earliestEnd, math.MaxInt64, func(end, start int64, v []byte) bool {
		if start > latestStart {
			return true
		}
		return fn(start, end, v)
	})
}

// FetchAll calls fn with every session whose end is in [fromEnd, toEnd],
// by end, then key (by length, then bytes), then start, until fn returns
// false. key and v are valid until fn returns. The sessions are read as of
// one moment.
func (s *Session) FetchAll(fromEnd, toEnd int64, fn func(key []byte, start, end int64, v []byte) bool) error {
	return s.s.fetchAll(fromEnd, toEnd, func(key []byte, end, start int64, v []byte) bool { return fn(key, start, end, v) })
}

// Expire advances the stream time to streamTime if it is later: sessions
// with end < streamTime - retention expire. Expiry is not logged, as for
// Windowed.
func (s *Session) Expire(streamTime int64) error { return s.s.expire(streamTime) }

// Restore applies a changelog record without reporting it; like Put, it
// advances the stream time and drops an expired session. After restoring,
// call Expire with the task's stream time.
func (s *Session) Restore(c Change) error {
	key, start, end, err := decodeSessionChangelogKey(c.Key)
	if err != nil {
		return err
	}
	_, err = s.s.put(key, end, start, c.Value)
	return err
}
