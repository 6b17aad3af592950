package flow

import (
	"fmt"

	"github.com/weir-io/weir/flow/store"
)

// kvStore is a key-value store of a task, its changes sent to its
// changelog topic ("<application id>-<store>-changelog"), partition the
// task's.
type kvStore struct {
	def *storeDef
	kv  *store.KeyValue
	// err is the first error of sending a change to the changelog,
	// returned by the next write.
	err error
}

// openKV opens the task's store of def.
func openKV(t *task, def *storeDef) (*kvStore, error) {
	s := &kvStore{def: def}
	var log store.Logger
	if def.logged {
		topic := ChangelogTopic(t.appID, def.name)
		partition := t.id.partition
		log = func(c store.Change) {
			if err := t.out.send(topic, partition, c.Key, c.Value, c.Timestamp, nil); err != nil && s.err == nil {
				s.err = fmt.Errorf("store %s: changelog: %w", def.name, err)
			}
		}
	}
	kv, err := t.db.KeyValue(def.name, log)
	if err != nil {
		return nil, err
	}
	s.kv = kv
	return s, nil
}

// get returns the value of key.
func (s *kvStore) get(key []byte) ([]byte, bool, error) { return s.kv.Get(key) }

// put writes key's value (nil deletes it).
func (s *kvStore) put(key, value []byte) error {
	var err error
	if value == nil {
		err = s.kv.Delete(key)
	} else {
		err = s.kv.Put(key, value)
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", s.def.name, err)
	}
	return s.err
}

// restore applies a changelog record (a nil value deletes the key).
func (s *kvStore) restore(key, value []byte, ts int64) error {
	return s.kv.Restore(store.Change{Key: key, Value: value, Timestamp: ts})
}
