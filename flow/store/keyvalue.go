package store

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// KeyValue is a key-value store: a sorted map of byte keys to byte values.
type KeyValue struct {
	db     *DB
	name   string
	log    Logger
	prefix []byte // "s" + id: every Pebble key of the store starts with it
}

// KeyValue opens the key-value store name, creating it if it is new; log
// receives its changes (nil: not logged).
func (db *DB) KeyValue(name string, log Logger) (*KeyValue, error) {
	r, _, err := db.openStore(name, kindKeyValue, 0)
	if err != nil {
		return nil, err
	}
	return &KeyValue{db: db, name: name, log: log, prefix: dataPrefix(r.id)}, nil
}

// Name returns the store's name.
func (s *KeyValue) Name() string { return s.name }

func (s *KeyValue) key(key []byte) []byte {
	k := make([]byte, 0, len(s.prefix)+len(key))
	return append(append(k, s.prefix...), key...)
}

// Get returns key's value (a copy, the caller's to keep).
func (s *KeyValue) Get(key []byte) (value []byte, found bool, err error) {
	if err := s.db.enter(); err != nil {
		return nil, false, err
	}
	defer s.db.exit()
	value, found, err = s.db.get(s.key(key))
	if err != nil {
		return nil, false, fmt.Errorf("get from %s: %w", s.name, err)
	}
	return value, found, nil
}

// Put sets key's value; a nil value deletes the key (Delete). The change
// is logged as the key and value given.
func (s *KeyValue) Put(key, value []byte) error {
	if value == nil {
		return s.Delete(key)
	}
	return s.write(key, value, true)
}

// Delete deletes key. A tombstone is logged whether the key existed or not
// (as Kafka Streams does): knowing would cost a read, and compaction drops
// the tombstone anyway.
func (s *KeyValue) Delete(key []byte) error { return s.write(key, nil, true) }

// Restore applies a changelog record (a nil value deletes the key)
// without reporting it.
func (s *KeyValue) Restore(c Change) error { return s.write(c.Key, c.Value, false) }

// write sets key to value, or deletes it if value is nil, and reports the
// change if logged.
func (s *KeyValue) write(key, value []byte, logged bool) error {
	if logged {
		if err := s.db.beginWrite(); err != nil {
			return err
		}
	}
	if err := s.db.enter(); err != nil {
		return err
	}
	var err error
	if value == nil {
		err = s.db.pebble.Delete(s.key(key), s.db.write)
	} else {
		err = s.db.pebble.Set(s.key(key), value, s.db.write)
	}
	s.db.exit()
	if err != nil {
		return fmt.Errorf("write to %s: %w", s.name, err)
	}
	if logged && s.log != nil {
		s.log(Change{Key: key, Value: value})
	}
	return nil
}

// KV is a key and its value, nil to delete the key.
type KV struct {
	Key, Value []byte
}

// PutAll writes entries as Put and Delete write one, in one batch: at less
// cost than a write each, and all or none of them if the process dies.
func (s *KeyValue) PutAll(entries []KV) error {
	if len(entries) == 0 {
		return nil
	}
	if err := s.db.beginWrite(); err != nil {
		return err
	}
	if err := s.db.enter(); err != nil {
		return err
	}
	b := s.db.pebble.NewBatch()
	var err error
	for _, e := range entries {
		if e.Value == nil {
			err = b.Delete(s.key(e.Key), nil)
		} else {
			err = b.Set(s.key(e.Key), e.Value, nil)
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		err = b.Commit(s.db.write)
	}
	b.Close()
	s.db.exit()
	if err != nil {
		return fmt.Errorf("write to %s: %w", s.name, err)
	}
	if s.log != nil {
		for _, e := range entries {
			s.log(Change{Key: e.Key, Value: e.Value})
		}
	}
	return nil
}

// Range calls fn with the keys in [from, to) and their values, in
// ascending order, until fn returns false. A nil from starts at the first
// key; a nil to runs to the last (an empty, non-nil to bounds an empty
// range). k and v are valid until fn returns. The range is read as of one
// moment: writes made meanwhile are not seen.
func (s *KeyValue) Range(from, to []byte, fn func(k, v []byte) bool) error {
	return s.iterate(from, to, false, fn)
}

// ReverseRange is Range in descending order.
func (s *KeyValue) ReverseRange(from, to []byte, fn func(k, v []byte) bool) error {
	return s.iterate(from, to, true, fn)
}

// PrefixScan calls fn with the keys starting with prefix, ascending, as
// Range.
func (s *KeyValue) PrefixScan(prefix []byte, fn func(k, v []byte) bool) error {
	if len(prefix) == 0 {
		return s.Range(nil, nil, fn)
	}
	return s.Range(prefix, prefixEnd(prefix), fn)
}

// Count returns the number of keys. It reads them all: it is exact, and
// costs as much as a Range over the store.
func (s *KeyValue) Count() (int64, error) {
	var n int64
	err := s.Range(nil, nil, func(_, _ []byte) bool { n++; return true })
	return n, err
}

func (s *KeyValue) iterate(from, to []byte, reverse bool, fn func(k, v []byte) bool) error {
	lower, upper := s.key(from), prefixEnd(s.prefix)
	if to != nil {
		upper = s.key(to)
	}
	if bytes.Compare(lower, upper) >= 0 {
		return nil
	}
	if err := s.db.enter(); err != nil {
		return err
	}
	defer s.db.exit()
	it, err := s.db.pebble.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("range of %s: %w", s.name, err)
	}
	valid, step := it.First, it.Next
	if reverse {
		valid, step = it.Last, it.Prev
	}
	for ok := valid(); ok; ok = step() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("range of %s: %w", s.name, err)
		}
		if !fn(it.Key()[len(s.prefix):], v) {
			break
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("range of %s: %w", s.name, err)
	}
	return nil
}
