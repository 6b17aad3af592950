package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options configure a DB.
type Options struct {
	// Logger receives Pebble's error messages; nil: slog.Default().
	Logger *slog.Logger
	// MemTableSize is the size of each of Pebble's memtables, in bytes;
	// 0: 4 MiB, small because a process runs many tasks.
	MemTableSize uint64
	// Cache is a block cache shared with other DBs; nil: the DB has one of
	// its own (Pebble's default size, 8 MiB).
	Cache *Cache
	// ClearCheckpointOnWrite makes the first write to the stores after a
	// checkpoint (other than Restore) remove the checkpoint before it is
	// made: the stores then hold writes that their changelogs may never
	// commit (those of an open transaction), and a crash must not leave
	// a checkpoint vouching for them. See ClearCheckpoint for why the
	// removal needs no sync of its own.
	ClearCheckpointOnWrite bool

	// fs replaces the file system, for tests (a crashable memory FS).
	fs vfs.FS
}

const defaultMemTableSize = 4 << 20

// Cache is a block cache that the DBs of a process can share, so that the
// memory of many tasks' cached blocks has one bound.
type Cache struct{ pebble *pebble.Cache }

// NewCache returns a cache of size bytes. Release it when no more DBs are
// opened with it; the DBs using it hold it until they are closed.
func NewCache(size int64) *Cache { return &Cache{pebble: pebble.NewCache(size)} }

// Release drops the caller's hold on the cache.
func (c *Cache) Release() { c.pebble.Unref() }

// DB is the local state of one task: its stores, each a keyspace of one
// Pebble database, and the checkpoint saying which changelog offsets they
// reflect.
//
// One goroutine, the task's, writes to the stores; any goroutine may read
// them meanwhile (see the package documentation). Close waits for the
// operations under way and fails those that come after with ErrClosed.
type DB struct {
	pebble *pebble.DB
	logger *slog.Logger
	// write is the options of the stores' writes: not synced, the
	// changelog being the durable copy. durable syncs, except in memory,
	// where there is no write-ahead log.
	write, durable *pebble.WriteOptions
	// clearOnWrite is Options.ClearCheckpointOnWrite; checkpointed says
	// whether the DB holds a checkpoint. The writer changes it; any
	// goroutine reads it.
	clearOnWrite bool
	checkpointed atomic.Bool

	mu struct {
		sync.Mutex
		closed bool
		// active counts the operations under way; Close waits on idle
		// until it is 0.
		active int
		idle   sync.Cond
		// open holds the stores opened, by name, with their stream time
		// (nil for stores without one).
		open   map[string]*streamClock
		nextID uint32
	}
}

// streamClock is a store's stream time: the largest time it has been
// given, by Expire and as the time of an entry written or restored. The
// store's writer advances it; any goroutine reads it.
type streamClock struct {
	key  []byte // "e" + store id
	time atomic.Int64
}

// advance raises the stream time to t if t is later.
// REQUIRES: called by the store's writer only.
func (c *streamClock) advance(t int64) {
	if t > c.time.Load() {
		c.time.Store(t)
	}
}

// Open opens (creating it) the local state of one task in dir; dir ""
// keeps it in memory, gone when the DB is closed.
func Open(dir string, opts Options) (*DB, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MemTableSize == 0 {
		opts.MemTableSize = defaultMemTableSize
	}
	memory := false
	if opts.fs == nil {
		opts.fs = vfs.Default
		if dir == "" {
			opts.fs, dir, memory = vfs.NewMem(), "state", true
		}
	}
	popts := &pebble.Options{
		FS:           opts.fs,
		MemTableSize: opts.MemTableSize,
		Logger:       pebbleLogger{opts.Logger},
		DisableWAL:   memory,
	}
	if opts.Cache != nil {
		popts.Cache = opts.Cache.pebble
	}
	p, err := pebble.Open(dir, popts)
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", dir, err)
	}
	db := &DB{pebble: p, logger: opts.Logger, write: pebble.NoSync, durable: pebble.Sync, clearOnWrite: opts.ClearCheckpointOnWrite}
	if memory {
		db.durable = pebble.NoSync
	}
	db.mu.idle.L = &db.mu.Mutex
	db.mu.open = make(map[string]*streamClock)
	if err := db.load(); err != nil {
		p.Close()
		return nil, fmt.Errorf("open state %s: %w", dir, err)
	}
	return db, nil
}

// load checks the format version (writing it into a new DB) and finds the
// next store id.
func (db *DB) load() error {
	v, found, err := db.get(keyFormat)
	switch {
	case err != nil:
		return err
	case !found:
		if err := db.pebble.Set(keyFormat, []byte{formatVersion}, db.durable); err != nil {
			return fmt.Errorf("write format version: %w", err)
		}
	case len(v) != 1 || v[0] != formatVersion:
		return fmt.Errorf("%w: version %v", ErrFormat, v)
	}
	_, found, err = db.get(keyCheckpoint)
	if err != nil {
		return err
	}
	db.checkpointed.Store(found)
	it, err := db.pebble.NewIter(&pebble.IterOptions{
		LowerBound: []byte{prefixStore},
		UpperBound: []byte{prefixStore + 1},
	})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		r, ok := decodeStoreRecord(v)
		if !ok {
			return fmt.Errorf("corrupt record of store %q", it.Key()[1:])
		}
		if r.id >= db.mu.nextID {
			db.mu.nextID = r.id + 1
		}
	}
	return it.Error()
}

// Close closes the DB once the operations under way end; later
// operations fail with ErrClosed. It must not be called from a function
// that a store is calling back (Range's, Fetch's ...).
func (db *DB) Close() error {
	db.mu.Lock()
	if db.mu.closed {
		db.mu.Unlock()
		return nil
	}
	db.mu.closed = true
	for db.mu.active > 0 {
		db.mu.idle.Wait()
	}
	db.mu.Unlock()
	if err := db.pebble.Close(); err != nil {
		return fmt.Errorf("close state: %w", err)
	}
	return nil
}

// enter begins an operation, failing once the DB is closing; every enter
// that succeeds is paired with an exit.
func (db *DB) enter() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return ErrClosed
	}
	db.mu.active++
	return nil
}

// exit ends an operation begun by enter.
func (db *DB) exit() {
	db.mu.Lock()
	db.mu.active--
	if db.mu.active == 0 && db.mu.closed {
		db.mu.idle.Broadcast()
	}
	db.mu.Unlock()
}

// openStore returns the record of store name, creating it as kind k with
// segment interval if it is new, and registers it as open. Stores other
// than key-value get their stream time, as last saved.
func (db *DB) openStore(name string, k kind, interval int64) (storeRecord, *streamClock, error) {
	if name == "" {
		return storeRecord{}, nil, errors.New("store: empty store name")
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return storeRecord{}, nil, ErrClosed
	}
	if _, ok := db.mu.open[name]; ok {
		return storeRecord{}, nil, fmt.Errorf("%w: %s", ErrStoreOpen, name)
	}
	r, err := db.storeRecordLocked(name, k, interval)
	if err != nil {
		return storeRecord{}, nil, err
	}
	var clock *streamClock
	if k != kindKeyValue {
		clock = &streamClock{key: streamTimeKey(r.id)}
		clock.time.Store(math.MinInt64)
		v, found, err := db.get(clock.key)
		if err != nil {
			return storeRecord{}, nil, fmt.Errorf("open store %s: %w", name, err)
		}
		if found && len(v) == timeSize {
			clock.time.Store(readTime(v))
		}
	}
	db.mu.open[name] = clock
	return r, clock, nil
}

// storeRecordLocked reads store name's record, creating it if absent.
// REQUIRES: db.mu is held.
func (db *DB) storeRecordLocked(name string, k kind, interval int64) (storeRecord, error) {
	key := storeRecordKey(name)
	v, found, err := db.get(key)
	if err != nil {
		return storeRecord{}, fmt.Errorf("open store %s: %w", name, err)
	}
	if found {
		r, ok := decodeStoreRecord(v)
		if !ok {
			return storeRecord{}, fmt.Errorf("open store %s: corrupt record", name)
		}
		if r.kind != k {
			return storeRecord{}, fmt.Errorf("%w: %s is a %s store, not %s", ErrKindMismatch, name, r.kind, k)
		}
		return r, nil
	}
	if db.mu.nextID == math.MaxUint32 {
		return storeRecord{}, fmt.Errorf("open store %s: out of store ids", name)
	}
	r := storeRecord{kind: k, id: db.mu.nextID, interval: interval}
	// Not synced: any later write that reaches the disk brings this one.
	if err := db.pebble.Set(key, encodeStoreRecord(r), db.write); err != nil {
		return storeRecord{}, fmt.Errorf("create store %s: %w", name, err)
	}
	db.mu.nextID++
	return r, nil
}

// get returns a copy of key's value.
func (db *DB) get(key []byte) ([]byte, bool, error) {
	return getFrom(db.pebble, key)
}

// getFrom returns a copy of key's value in r.
func getFrom(r pebble.Reader, key []byte) ([]byte, bool, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer closer.Close()
	return append(make([]byte, 0, len(v)), v...), true, nil
}

// Destroy removes a task's local state: the directory dir and all in it.
// A directory that does not exist is not an error; one that holds other
// files than Pebble's is left alone (ErrNotState), as is one whose DB is
// open.
func Destroy(dir string) error {
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("destroy state %s: %w", dir, err)
	}
	for _, e := range entries {
		if !isPebbleFile(e.Name()) {
			return fmt.Errorf("destroy state %s: %w: it holds %s", dir, ErrNotState, e.Name())
		}
	}
	if len(entries) > 0 {
		lock, err := pebble.LockDirectory(dir, vfs.Default)
		if err != nil {
			return fmt.Errorf("destroy state %s: in use: %w", dir, err)
		}
		defer lock.Close()
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("destroy state %s: %w", dir, err)
	}
	return nil
}

// isPebbleFile reports whether a file name is one that Pebble writes in
// its directory.
func isPebbleFile(name string) bool {
	switch name {
	case "LOCK", "CURRENT":
		return true
	}
	for _, prefix := range []string{"OPTIONS-", "MANIFEST-", "marker.", "temporary."} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	for _, suffix := range []string{".log", ".sst", ".blob", ".dbtmp"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

// pebbleLogger sends Pebble's messages to the DB's log, errors only.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(string, ...any) {}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error("state store: " + fmt.Sprintf(format, args...))
}

// Fatalf must not return (Pebble's contract: its state is unusable after a
// fatal error); the panic ends the process with the message.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error("state store: fatal: " + fmt.Sprintf(format, args...))
	panic(fmt.Sprintf(format, args...))
}
