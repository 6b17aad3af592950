package flow

import (
	"fmt"
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
}

// openStore opens the task's store of def.
func openStore(t *task, def *storeDef) (*taskStore, error) {
	s := &taskStore{def: def}
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
