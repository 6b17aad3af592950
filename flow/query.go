package flow

import (
	"errors"
	"fmt"
	"time"
)

// Queryable is what holds local stores that can be queried while it
// runs: an App (the tasks this instance runs) or a TestDriver.
type Queryable interface {
	localStores(name string) ([]*taskStore, error)
}

// ErrNoStore is returned by queries of a store the topology does not
// have, or of a kind the query does not read.
var ErrNoStore = errors.New("flow: no such store")

// localStores returns the stores named name of the instance's tasks. The
// tasks lock is held only to list them: reads go on while the instance
// processes (a store reads as of one moment, see flow/store).
func (a *App) localStores(name string) ([]*taskStore, error) {
	if !a.top.hasStore(name) {
		return nil, fmt.Errorf("%w: %s", ErrNoStore, name)
	}
	a.tasksMu.Lock()
	defer a.tasksMu.Unlock()
	var out []*taskStore
	for _, t := range a.tasks {
		if s := t.stores[name]; s != nil {
			out = append(out, s)
		}
	}
	return out, nil
}

func (d *TestDriver) localStores(name string) ([]*taskStore, error) {
	if !d.top.hasStore(name) {
		return nil, fmt.Errorf("%w: %s", ErrNoStore, name)
	}
	var out []*taskStore
	for _, t := range d.tasks {
		if s := t.stores[name]; s != nil {
			out = append(out, s)
		}
	}
	return out, nil
}

// hasStore reports whether the topology declares a store.
func (t *Topology) hasStore(name string) bool {
	for _, s := range t.stores {
		if s.name == name {
			return true
		}
	}
	return false
}

// KeyValueQuery reads a key-value store (of an aggregation, a table read
// with TableOf or materialized, or a processor's) across the tasks of an
// instance: the keys of the partitions it runs. Reads see the stores as
// they are, uncommitted writes of a transaction under way included.
type KeyValueQuery[K, V any] struct {
	q    Queryable
	name string
	kc   Codec[K]
	vc   Codec[V]
}

// QueryKeyValue returns a query of the key-value store name, whose keys
// and values kc and vc decode.
func QueryKeyValue[K, V any](q Queryable, name string, kc Codec[K], vc Codec[V]) KeyValueQuery[K, V] {
	return KeyValueQuery[K, V]{q: q, name: name, kc: kc, vc: vc}
}

// Get returns key's value, if one of the instance's tasks has it.
func (kq KeyValueQuery[K, V]) Get(key K) (V, bool, error) {
	var zero V
	stores, err := kq.q.localStores(kq.name)
	if err != nil {
		return zero, false, err
	}
	k, err := kq.kc.Encode(key)
	if err != nil {
		return zero, false, err
	}
	for _, s := range stores {
		if s.kv == nil && s.versioned == nil {
			return zero, false, fmt.Errorf("%w: %s is not a key-value store", ErrNoStore, kq.name)
		}
		raw, found, err := s.get(k)
		if err != nil {
			return zero, false, err
		}
		if found {
			v, err := kq.vc.Decode(raw)
			return v, err == nil, err
		}
	}
	return zero, false, nil
}

// Range calls fn with the entries whose encoded keys are in [from, to)
// (nil: unbounded), task after task, each task's in key order, until fn
// returns false.
func (kq KeyValueQuery[K, V]) Range(from, to *K, fn func(K, V) bool) error {
	stores, err := kq.q.localStores(kq.name)
	if err != nil {
		return err
	}
	var lo, hi []byte
	if from != nil {
		if lo, err = kq.kc.Encode(*from); err != nil {
			return err
		}
	}
	if to != nil {
		if hi, err = kq.kc.Encode(*to); err != nil {
			return err
		}
		hi = append([]byte{}, hi...)
	}
	more := true
	for _, s := range stores {
		if s.kv == nil {
			return fmt.Errorf("%w: %s is not a key-value store", ErrNoStore, kq.name)
		}
		view := KeyValueView[K, V]{s: s, kc: kq.kc, vc: kq.vc}
		if err := view.scan(lo, hi, func(k K, v V) bool { more = fn(k, v); return more }); err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return nil
}

// WindowQuery reads the window store of a windowed aggregation across the
// tasks of an instance.
type WindowQuery[K, V any] struct {
	q    Queryable
	name string
	kc   Codec[K]
	vc   Codec[V]
}

// QueryWindows returns a query of the window store of the windowed
// aggregation name (its Named name), whose keys kc and aggregates vc
// decode.
func QueryWindows[K, V any](q Queryable, name string, kc Codec[K], vc Codec[V]) WindowQuery[K, V] {
	return WindowQuery[K, V]{q: q, name: name, kc: kc, vc: vc}
}

// Fetch calls fn with key's open windows that start from from to to
// (inclusive), in order of start, until fn returns false. Closed windows
// are deleted, so only open ones are found.
func (wq WindowQuery[K, V]) Fetch(key K, from, to time.Time, fn func(start time.Time, v V) bool) error {
	stores, err := wq.q.localStores(wq.name)
	if err != nil {
		return err
	}
	k, err := wq.kc.Encode(key)
	if err != nil {
		return err
	}
	for _, s := range stores {
		if s.windows == nil {
			return fmt.Errorf("%w: %s is not a window store", ErrNoStore, wq.name)
		}
		var decodeErr error
		more := true
		err := s.windows.Fetch(k, from.UnixMilli(), to.UnixMilli(), func(start int64, raw []byte) bool {
			v, err := wq.vc.Decode(raw)
			if err != nil {
				decodeErr = err
				return false
			}
			more = fn(time.UnixMilli(start), v)
			return more
		})
		if err = firstErr(err, decodeErr); err != nil || !more {
			return err
		}
	}
	return nil
}
