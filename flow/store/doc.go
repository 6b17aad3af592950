// Package store holds the local state of flow's tasks: the state stores
// of Kafka Streams, on Pebble.
//
// # A DB per task
//
// Open opens a task's DB in a directory (or in memory, for the test
// driver); the stores of the task are keyspaces of it, each opened by name
// and kind:
//
//	db, err := store.Open(dir, store.Options{})
//	counts, err := db.KeyValue("counts", logger)
//	windows, err := db.Windowed("clicks-per-minute", 25*time.Hour, logger)
//
// A name belongs to one store for the life of the DB's directory, and
// always to the same kind. Keys and values are bytes: flow encodes typed
// values with codecs. Times are int64 Unix milliseconds, as Kafka's
// timestamps.
//
// The kinds:
//
//   - KeyValue: a sorted map; Get, Put, Delete, ranges in both directions.
//   - Windowed: values by key and window start; fetch a key's windows
//     over a range of starts, or all windows by start; windows expire a
//     retention period after their start.
//   - Session: values by key and session (start and end); find the
//     sessions a record merges with; sessions expire after their end.
//   - Versioned: the values of a key over time; get the value as of a
//     time within a history retention.
//
// # Changelog and restore
//
// The stores' writes are not synced: the durable copy of a store is its
// changelog topic. Each store reports every change it makes to its Logger,
// in order, as the changelog record (key and value; changelog.go gives the
// encodings); the task sends them to the changelog. Restore applies a
// changelog record without reporting it, so that restoring the records a
// store reported into an empty DB gives the same contents. Restore
// rejects a record it cannot decode with an error wrapping
// ErrMalformedChange.
//
// Expiry is not logged for windowed and session stores (their changelogs
// are compacted per window and deleted by age, and Restore drops expired
// entries itself); versions a versioned store removes are logged as nil
// values, so that compaction removes their records.
//
// # Checkpoints
//
// SetCheckpoint records the changelog offsets up to which the stores
// reflect their changelogs, with one synced write that makes durable
// everything written before it. A task that finds a checkpoint on start
// restores from those offsets; one that finds none wipes its state
// (Destroy) and restores from the beginning. Under exactly-once the
// runtime opens its DBs with Options.ClearCheckpointOnWrite: the first
// write after a checkpoint (not a Restore) removes it, as the stores then
// hold writes of a transaction that may abort; the runtime sets a new one
// after each commit. Checkpointed says whether the DB holds one.
//
// # Stream time and expiry
//
// Windowed, session and versioned stores keep a stream time: the latest
// of the times given to Expire and the times of the entries written or
// restored (window start, session end, valid-from). Entries older than
// stream time minus the retention are expired: reads skip them and writes
// to them are dropped, so that a store and its restored copy agree; they
// are removed from disk in steps of about half the retention. The stream
// time is saved with each checkpoint; Restore advances it from what it
// restores, and the runtime calls Expire with the task's stream time once
// restored.
//
// # Concurrency
//
// One goroutine, the task's, writes to a DB's stores (Put, Delete, Remove,
// Expire, Restore, SetCheckpoint); writes to one store must not be
// concurrent. Reads (Get, ranges, fetches) may come from any goroutine
// meanwhile, for queryable state. A reader sees each write whole or not
// at all (a write is one Pebble batch); a range or fetch reads the store
// as of one moment, seeing no write made while it runs; the slices passed
// to a range's function are valid until it returns. Close waits for the
// operations under way; later ones return ErrClosed.
//
// # On disk
//
// keys.go documents the Pebble keys byte by byte; segmented.go and
// versioned.go how windowed, session and versioned stores use them;
// checkpoint.go the checkpoint. The format carries a version, checked by
// Open.
package store
