package store

import (
	"time"
)

// Windowed is a window store: values by key and window start time (Unix
// milliseconds), kept for a retention period of stream time.
//
// The store's stream time is the latest of the times given to Expire and
// the window starts written or restored. A window whose start is before
// stream time - retention has expired: reads do not return it, writes to
// it are dropped (not applied, not logged), and it is removed from disk
// with the rest of its segment (segmented.go). The retention must cover
// the window size and the grace period for late records.
type Windowed struct {
	s   *segmented
	log Logger
}

// Windowed opens the window store name, creating it if it is new;
// retention (a millisecond at least) is how long a window is kept after
// stream time passes its start; log receives its changes (nil: not
// logged).
func (db *DB) Windowed(name string, retention time.Duration, log Logger) (*Windowed, error) {
	s, err := db.openSegmented(name, kindWindowed, retention)
	if err != nil {
		return nil, err
	}
	return &Windowed{s: s, log: log}, nil
}

// Name returns the store's name.
func (w *Windowed) Name() string { return w.s.name }

// StreamTime returns the store's stream time (math.MinInt64 before any).
func (w *Windowed) StreamTime() int64 { return w.s.clock.time.Load() }

// Put sets the value of key's window starting at start; a nil value
// deletes the window (and logs a tombstone whether it existed or not).
// A write to an expired window is dropped.
func (w *Windowed) Put(key []byte, start int64, value []byte) error {
	if err := w.s.db.beginWrite(); err != nil {
		return err
	}
	applied, err := w.s.put(key, start, 0, value)
	if err != nil || !applied || w.log == nil {
		return err
	}
	w.log(Change{Key: windowedChangelogKey(key, start), Value: value, Timestamp: start})
	return nil
}

// Window is a window of a key, its value nil to delete it.
type Window struct {
	Key   []byte
	Start int64
	Value []byte
}

// PutAll writes windows as Put writes one, in one batch: at less cost
// than a Put each, and all or none of them if the process dies.
func (w *Windowed) PutAll(windows []Window) error {
	if len(windows) == 0 {
		return nil
	}
	if err := w.s.db.beginWrite(); err != nil {
		return err
	}
	applied := make([]bool, len(windows))
	err := w.s.putMany(len(windows), func(i int) entry {
		return entry{key: windows[i].Key, t: windows[i].Start, value: windows[i].Value}
	}, func(i int, ok bool) { applied[i] = ok })
	if err != nil || w.log == nil {
		return err
	}
	for i, win := range windows {
		if applied[i] {
			w.log(Change{Key: windowedChangelogKey(win.Key, win.Start), Value: win.Value, Timestamp: win.Start})
		}
	}
	return nil
}

// Get returns the value (a copy) of key's window starting at start.
func (w *Windowed) Get(key []byte, start int64) ([]byte, bool, error) {
	return w.s.get(key, start, 0)
}

// Fetch calls fn with key's windows whose start is in [fromStart,
// toStart], in ascending start order, until fn returns false. v is valid
// until fn returns. The windows are read as of one moment.
func (w *Windowed) Fetch(key []byte, fromStart, toStart int64, fn func(start int64, v []byte) bool) error {
	return w.s.fetch(key, fromStart, toStart, func(start, _ int64, v []byte) bool { return fn(start, v) })
}

// FetchAll calls fn with every window whose start is in [fromStart,
// toStart], in ascending start order, windows of one start by key (by
// length, then bytes), until fn returns false. key and v are valid until
// fn returns. The windows are read as of one moment.
func (w *Windowed) FetchAll(fromStart, toStart int64, fn func(key []byte, start int64, v []byte) bool) error {
	return w.s.fetchAll(fromStart, toStart, func(key []byte, start, _ int64, v []byte) bool { return fn(key, start, v) })
}

// Expire advances the stream time to streamTime if it is later: windows
// with start < streamTime - retention expire. Expiry is not logged: the
// changelog is compacted per window and deleted by age, and Restore drops
// expired windows too, by the stream time of what it has restored.
func (w *Windowed) Expire(streamTime int64) error { return w.s.expire(streamTime) }

// Restore applies a changelog record without reporting it; like Put, it
// advances the stream time and drops an expired window. After restoring,
// call Expire with the task's stream time.
func (w *Windowed) Restore(c Change) error {
	key, start, err := decodeWindowedChangelogKey(c.Key)
	if err != nil {
		return err
	}
	_, err = w.s.put(key, start, 0, c.Value)
	return err
}
