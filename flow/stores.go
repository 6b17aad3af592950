package flow

import (
	"bytes"
	"fmt"
	"math"
	"time"

	"github.com/weir-io/weir/flow/store"
)

// taskStore is a store of a task, of one of the kinds of storeDef, its
// changes sent to its changelog topic ("<application id>-<store>-changelog"),
// partition the task's.
type taskStore struct {
	def     *storeDef
	kv      *store.KeyValue
	windows *store.Windowed
	session *store.Session
	// versioned keeps the values of a key over time (a versioned
	// table).
	versioned *store.Versioned
	// err is the first error of sending a change to the changelog,
	// returned by the next write.
	err error
	// floor is at or below the time of every entry of a window or
	// session store (a window's start, a session's end, a buffered
	// list's time): the operators remove entries in time order as the
	// watermark passes them, and each pass starts its scan here rather
	// than at the oldest time, skipping the tombstones its predecessors
	// left. It starts at math.MinInt64 when the store opens (its
	// entries are unknown) and only a write below it lowers it again.
	floor int64
}

// openStore opens the task's store of def.
func openStore(t *task, def *storeDef) (*taskStore, error) {
	s := &taskStore{def: def, floor: math.MinInt64}
	var log store.Logger
	if def.logged {
		topic := ChangelogTopic(t.appID, def.name)
		partition := t.id.partition
		log = func(c store.Change) {
			ts := c.Timestamp
			if t.current != nil {
				ts = t.current.ts
			}
			if err := t.out.send(topic, partition, c.Key, c.Value, ts, nil); err != nil && s.err == nil {
				s.err = fmt.Errorf("store %s: changelog: %w", def.name, err)
			}
		}
	}
	db := t.db
	if def.inMemory {
		db = t.mem
	}
	var err error
	switch def.kind {
	case keyValueStore:
		s.kv, err = db.KeyValue(def.name, log)
	case windowStore:
		s.windows, err = db.Windowed(def.name, max(def.retention, time.Millisecond), log)
	case sessionStore:
		s.session, err = db.Session(def.name, max(def.retention, time.Millisecond), log)
	case versionedStore:
		s.versioned, err = db.Versioned(def.name, def.retention, log)
	default:
		err = fmt.Errorf("flow: store %s of an unknown kind", def.name)
	}
	return s, err
}

// get returns the value of key in a key-value store, or its latest value
// in a versioned one.
func (s *taskStore) get(key []byte) ([]byte, bool, error) {
	if s.versioned != nil {
		v, _, found, err := s.versioned.Get(key)
		return v, found, err
	}
	return s.kv.Get(key)
}

// put writes key's value in a key-value store (nil deletes it).
func (s *taskStore) put(key, value []byte) error {
	var err error
	if value == nil {
		err = s.kv.Delete(key)
	} else {
		err = s.kv.Put(key, value)
	}
	return s.wrote(err)
}

// putWindow writes key's entry at t in a window store (nil deletes it).
func (s *taskStore) putWindow(key []byte, t int64, value []byte) error {
	if value != nil {
		s.floor = min(s.floor, t)
	}
	return s.wrote(s.windows.Put(key, t, value))
}

// putSession writes key's session [start, end] in a session store (nil
// deletes it).
func (s *taskStore) putSession(key []byte, start, end int64, value []byte) error {
	if value != nil {
		s.floor = min(s.floor, end)
	}
	return s.wrote(s.session.Put(key, start, end, value))
}

// removeUpTo deletes the entries of a window or session store whose time
// is at or before last, and returns them (copies) in order of time, then
// key, then start (sessions), for the caller to emit. The scan starts at
// the floor, which then moves past last.
func (s *taskStore) removeUpTo(last int64) ([]timedEntry, error) {
	if last < s.floor {
		return nil, nil
	}
	var out []timedEntry
	keep := func(key []byte, start, t int64, v []byte) bool {
		out = append(out, timedEntry{key: bytes.Clone(key), start: start, t: t, value: bytes.Clone(v)})
		return true
	}
	var err error
	if s.session != nil {
		err = s.session.FetchAll(s.floor, last, func(key []byte, start, end int64, v []byte) bool { return keep(key, start, end, v) })
	} else {
		err = s.windows.FetchAll(s.floor, last, func(key []byte, t int64, v []byte) bool { return keep(key, t, t, v) })
	}
	if err != nil {
		return nil, s.wrote(err)
	}
	if last == math.MaxInt64 {
		s.floor = last
	} else {
		s.floor = last + 1
	}
	for _, e := range out {
		if s.session != nil {
			err = s.wrote(s.session.Remove(e.key, e.start, e.t))
		} else {
			err = s.wrote(s.windows.Put(e.key, e.t, nil))
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// timedEntry is an entry of a window or session store: a window or
// buffered list (start = t, its time) or a session [start, t].
type timedEntry struct {
	key      []byte
	start, t int64
	value    []byte
}

// wrote returns the error of a write, or of its changelog record.
func (s *taskStore) wrote(err error) error {
	if err != nil {
		return fmt.Errorf("store %s: %w", s.def.name, err)
	}
	return s.err
}

// restore applies a changelog record.
func (s *taskStore) restore(key, value []byte, ts int64) error {
	c := store.Change{Key: key, Value: value, Timestamp: ts}
	switch {
	case s.kv != nil:
		return s.kv.Restore(c)
	case s.windows != nil:
		return s.windows.Restore(c)
	case s.versioned != nil:
		return s.versioned.Restore(c)
	default:
		return s.session.Restore(c)
	}
}
