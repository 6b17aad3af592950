package flow

import (
	"bytes"
	"fmt"
	"math"
	"slices"
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
	// cache holds back the writes of a window store until the task
	// commits (nil: writes go to the store at once); kvCache those of a
	// key-value store, by key (a nil value deletes the key). Reads by
	// key look in them first; a range read of a key-value store flushes
	// it first.
	cache   *windowCache
	kvCache map[string][]byte
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
		if def.cached {
			s.kvCache = make(map[string][]byte)
		}
	case windowStore:
		s.windows, err = db.Windowed(def.name, max(def.retention, time.Millisecond), log)
		if def.cached {
			s.cache = newWindowCache()
		}
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
	if s.kvCache != nil {
		if v, found := s.kvCache[string(key)]; found {
			return bytes.Clone(v), v != nil, nil
		}
	}
	return s.kv.Get(key)
}

// put writes key's value in a key-value store (nil deletes it).
func (s *taskStore) put(key, value []byte) error {
	if s.kvCache != nil {
		s.kvCache[string(key)] = bytes.Clone(value) // as putWindow
		return s.err
	}
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
	if s.cache != nil {
		// A copy: a codec may encode into a buffer it reuses.
		s.cache.put(key, t, bytes.Clone(value))
		return s.err
	}
	return s.wrote(s.windows.Put(key, t, value))
}

// getWindow returns key's entry at t in a window store.
func (s *taskStore) getWindow(key []byte, t int64) ([]byte, bool, error) {
	if s.cache != nil {
		if v, found := s.cache.get(key, t); found {
			return v, v != nil, nil
		}
	}
	v, found, err := s.windows.Get(key, t)
	return v, found, s.wrote(err)
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
	var stored []timedEntry
	keep := func(key []byte, start, t int64, v []byte) bool {
		stored = append(stored, timedEntry{key: bytes.Clone(key), start: start, t: t, value: bytes.Clone(v)})
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
	if s.session != nil {
		for _, e := range stored {
			if err := s.wrote(s.session.Remove(e.key, e.start, e.t)); err != nil {
				return nil, err
			}
		}
	} else if err := s.putAll(stored, true); err != nil {
		return nil, err
	}
	if s.cache == nil || s.cache.empty() {
		return stored, nil
	}
	return mergeCached(stored, s.cache.take(last)), nil
}

// mergeCached merges the entries read from a store with those taken from
// its cache, both in order: a cached entry replaces the stored one (a
// cached deletion removes it).
func mergeCached(stored, cached []timedEntry) []timedEntry {
	out := make([]timedEntry, 0, len(stored)+len(cached))
	for len(stored) > 0 || len(cached) > 0 {
		var c int
		switch {
		case len(stored) == 0:
			c = 1
		case len(cached) == 0:
			c = -1
		default:
			c = compareTimed(stored[0], cached[0])
		}
		switch {
		case c < 0:
			out, stored = append(out, stored[0]), stored[1:]
			continue
		case c == 0:
			stored = stored[1:]
		}
		if cached[0].value != nil {
			out = append(out, cached[0])
		}
		cached = cached[1:]
	}
	return out
}

// flush writes the cached writes to the store (and its changelog), in
// order of time (window stores), then key.
func (s *taskStore) flush() error {
	if len(s.kvCache) > 0 {
		entries := make([]store.KV, 0, len(s.kvCache))
		for k, v := range s.kvCache {
			entries = append(entries, store.KV{Key: []byte(k), Value: v})
		}
		slices.SortFunc(entries, func(a, b store.KV) int { return bytes.Compare(a.Key, b.Key) })
		clear(s.kvCache)
		return s.wrote(s.kv.PutAll(entries))
	}
	if s.cache == nil || s.cache.empty() {
		return nil
	}
	return s.putAll(s.cache.take(math.MaxInt64), false)
}

// putAll writes entries to a window store in one batch, or deletes them.
func (s *taskStore) putAll(entries []timedEntry, remove bool) error {
	windows := make([]store.Window, len(entries))
	for i, e := range entries {
		windows[i] = store.Window{Key: e.key, Start: e.t, Value: e.value}
		if remove {
			windows[i].Value = nil
		}
	}
	return s.wrote(s.windows.PutAll(windows))
}

// flushStores writes the task's cached store writes to its stores: before
// the task commits, so that its changelog records are in the commit.
func (t *task) flushStores() error {
	for _, s := range t.stores {
		if err := s.flush(); err != nil {
			return fmt.Errorf("task %s: %w", t.id, err)
		}
	}
	return nil
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
