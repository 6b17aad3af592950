package store

// The checkpoint, the value of key "c" (format version 1):
//
//	byte      1, the version of this encoding
//	uvarint   count of stores
//	count times, names ascending:
//	  uvarint   length of the store name
//	  bytes     store name
//	  int64     changelog offset
//
// Written by one synced Pebble write, after every write of the stores
// before it in Pebble's write-ahead log: once it is on disk, so is all it
// describes. The stores' stream times (keys "e" + id) go in the same
// write.

import (
	"encoding/binary"
	"fmt"
	"slices"
)

const checkpointVersion = 1

// SetCheckpoint records the changelog offsets (by store name) up to which
// the stores reflect their changelogs, atomically with everything written
// before it, durably (synced; in memory, nothing is durable). It saves
// each store's stream time with them.
func (db *DB) SetCheckpoint(offsets map[string]int64) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.exit()
	b := db.pebble.NewBatch()
	defer b.Close()
	if err := b.Set(keyCheckpoint, encodeCheckpoint(offsets), nil); err != nil {
		return fmt.Errorf("set checkpoint: %w", err)
	}
	db.mu.Lock()
	for _, clock := range db.mu.open {
		if clock == nil {
			continue
		}
		if err := b.Set(clock.key, appendTime(nil, clock.time.Load()), nil); err != nil {
			db.mu.Unlock()
			return fmt.Errorf("set checkpoint: %w", err)
		}
	}
	db.mu.Unlock()
	if err := b.Commit(db.durable); err != nil {
		return fmt.Errorf("set checkpoint: %w", err)
	}
	db.checkpointed.Store(true)
	return nil
}

// Checkpointed reports whether the DB holds a checkpoint: one was set and
// neither ClearCheckpoint nor a write (with ClearCheckpointOnWrite) has
// removed it since.
func (db *DB) Checkpointed() bool { return db.checkpointed.Load() }

// Checkpoint returns the offsets of the last SetCheckpoint, or an empty
// map if there is none (never set, or cleared).
func (db *DB) Checkpoint() (map[string]int64, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.exit()
	v, found, err := db.get(keyCheckpoint)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	if !found {
		return map[string]int64{}, nil
	}
	offsets, err := decodeCheckpoint(v)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	return offsets, nil
}

// ClearCheckpoint removes the checkpoint, durably.
//
// With ClearCheckpointOnWrite, the stores' writes remove it themselves,
// the first after each SetCheckpoint, with a write that is not synced:
// Pebble's recovery after a crash keeps a prefix of the writes made
// (its write-ahead log is replayed up to the first record missing or
// torn, and memtables are flushed oldest first), so any write that
// survives a crash brings the removal made before it. The checkpoint is
// then either gone, or still there with none of the writes it does not
// vouch for.
func (db *DB) ClearCheckpoint() error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.exit()
	if err := db.pebble.Delete(keyCheckpoint, db.durable); err != nil {
		return fmt.Errorf("clear checkpoint: %w", err)
	}
	db.checkpointed.Store(false)
	return nil
}

// beginWrite removes the checkpoint before a write of the stores (not a
// Restore), if the DB clears it on write and holds one; not synced (see
// ClearCheckpoint).
// REQUIRES: called by the stores' writer only.
func (db *DB) beginWrite() error {
	if !db.clearOnWrite || !db.checkpointed.Load() {
		return nil
	}
	if err := db.enter(); err != nil {
		return err
	}
	defer db.exit()
	if err := db.pebble.Delete(keyCheckpoint, db.write); err != nil {
		return fmt.Errorf("clear checkpoint: %w", err)
	}
	db.checkpointed.Store(false)
	return nil
}

func encodeCheckpoint(offsets map[string]int64) []byte {
	names := make([]string, 0, len(offsets))
	size := 1 + binary.MaxVarintLen64
	for name := range offsets {
		names = append(names, name)
		size += binary.MaxVarintLen64 + len(name) + 8
	}
	slices.Sort(names)
	b := make([]byte, 0, size)
	b = append(b, checkpointVersion)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, name := range names {
		b = binary.AppendUvarint(b, uint64(len(name)))
		b = append(b, name...)
		b = binary.BigEndian.AppendUint64(b, uint64(offsets[name]))
	}
	return b
}

func decodeCheckpoint(b []byte) (map[string]int64, error) {
	if len(b) == 0 || b[0] != checkpointVersion {
		return nil, fmt.Errorf("%w: checkpoint of unknown version", ErrFormat)
	}
	b = b[1:]
	count, n := binary.Uvarint(b)
	// Each entry takes at least 9 bytes, which bounds count before it
	// sizes the map.
	if n <= 0 || count > uint64(len(b)-n)/9 {
		return nil, fmt.Errorf("corrupt checkpoint: bad count")
	}
	b = b[n:]
	offsets := make(map[string]int64, count)
	for range count {
		length, n := binary.Uvarint(b)
		if n <= 0 || length > uint64(len(b)-n) || uint64(len(b)-n)-length < 8 {
			return nil, fmt.Errorf("corrupt checkpoint: truncated entry")
		}
		b = b[n:]
		name := string(b[:length])
		offsets[name] = int64(binary.BigEndian.Uint64(b[length:]))
		b = b[length+8:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("corrupt checkpoint: %d bytes after the entries", len(b))
	}
	return offsets, nil
}
