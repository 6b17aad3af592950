package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"

	"github.com/weir-io/weir/internal/storage/commitlog"
)

// Engine is an open storage engine. All its methods are safe for
// concurrent use.
type Engine struct {
	opts   Options
	logger *slog.Logger
	log    *commitlog.Log
	db     *pebble.DB

	catalogMu     sync.Mutex
	cleanMu       sync.Mutex
	applyMu       sync.RWMutex
	catalogFileMu sync.Mutex // serialises writes of the catalog file

	// catalogStale: the catalog file lags the catalog (it changed, a log
	// start moved, or writing the file failed); the next checkpoint writes
	// it. catalogFilePos is the position the file covers.
	catalogStale   atomic.Bool
	catalogFilePos atomic.Uint64

	space spaceGuard

	mu struct {
		sync.RWMutex
		topics   map[string]*topic
		byID     map[uint64]*Partition
		counters counters
	}

	segMu struct {
		sync.Mutex
		live map[uint64]int64 // segment base position -> live entry bytes
	}

	checkpointed   atomic.Uint64 // C
	lastCheckpoint atomic.Int64  // unix nanoseconds

	closed atomic.Bool
	stop   chan struct{}
	wg     sync.WaitGroup
}

// Open opens the engine in opts.Dir, creating it if needed, and recovers
// from a crash if there was one.
func Open(opts Options) (*Engine, error) {
	opts = opts.withDefaults()
	if opts.Dir == "" {
		return nil, errors.New("storage: no data directory")
	}
	if err := opts.FS.MkdirAll(opts.Dir); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	// Recovery writes (the index replays its log and flushes, a
	// checkpoint ends it): on a disk without room for them, refuse to
	// start rather than let the index retry its flush forever.
	if opts.MinFreeBytes >= 0 {
		if free, err := opts.FS.FreeSpace(opts.Dir); err == nil && free < opts.MinFreeBytes {
			return nil, fmt.Errorf("%w: %d bytes free in %s, below the reserve of %d: free some space (or lower min_free_bytes) to start",
				ErrDiskFull, free, opts.Dir, opts.MinFreeBytes)
		}
	}
	cache := pebble.NewCache(opts.IndexCacheBytes)
	defer cache.Unref()
	e, err := openOnce(opts, cache, false)
	if errors.Is(err, errIndex) {
		// The index cannot be used: set it aside and rebuild it from the
		// log and the catalog file rather than refuse to start.
		opts.Logger.Error("index damaged; rebuilding it from the commit log", "err", err)
		if err := setAsideIndex(opts); err != nil {
			return nil, err
		}
		e, err = openOnce(opts, cache, true)
	}
	if err != nil {
		return nil, err
	}
	if opts.CleanerInterval > 0 {
		e.wg.Add(1)
		go e.maintain()
	}
	return e, nil
}

// errIndex marks errors of the index (as opposed to the log): recovery
// answers them by rebuilding the index.
var errIndex = errors.New("index unusable")

// openOnce opens the index and the log and recovers; with rebuild, the
// index is new and is rebuilt from the whole log.
func openOnce(opts Options, cache *pebble.Cache, rebuild bool) (*Engine, error) {
	db, err := pebble.Open(filepath.Join(opts.Dir, "index"), &pebble.Options{
		Cache:  cache,
		Logger: pebbleLogger{opts.Logger},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: open: %v", errIndex, err)
	}
	e := &Engine{opts: opts, logger: opts.Logger, db: db, stop: make(chan struct{})}
	e.mu.topics = make(map[string]*topic)
	e.mu.byID = make(map[uint64]*Partition)
	e.segMu.live = make(map[uint64]int64)
	e.catalogStale.Store(true) // the checkpoint that ends recovery writes it
	if err := e.recover(rebuild); err != nil {
		if e.log != nil {
			e.log.Close()
		}
		db.Close()
		return nil, err
	}
	return e, nil
}

// setAsideIndex renames a damaged index directory, keeping the last one
// set aside for an operator to look at.
func setAsideIndex(opts Options) error {
	index := filepath.Join(opts.Dir, "index")
	aside := index + ".damaged"
	if err := opts.FS.RemoveAll(aside); err != nil {
		return fmt.Errorf("remove old damaged index: %w", err)
	}
	if err := opts.FS.Rename(index, aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("set aside damaged index: %w", err)
	}
	return opts.FS.SyncDir(opts.Dir)
}

// Close stops the cleaner, takes a checkpoint (so that the next open
// replays nothing) and closes the log and the index.
func (e *Engine) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(e.stop)
	e.wg.Wait()
	err := e.Checkpoint(context.Background())
	if cerr := e.log.Close(); err == nil {
		err = cerr
	}
	if cerr := e.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// DiskUsage returns the bytes of the commit log's segment files.
func (e *Engine) DiskUsage() int64 { return e.log.DiskUsage() }

// SyncProgress returns a channel closed when the commit log's synced
// position next moves: under the durable policy, when high watermarks may
// have moved.
func (e *Engine) SyncProgress() <-chan struct{} { return e.log.SyncProgress() }

// Dir returns the data directory.
func (e *Engine) Dir() string { return e.opts.Dir }

// FreeSpace returns the bytes still usable on the data directory's file
// system.
func (e *Engine) FreeSpace() (int64, error) { return e.opts.FS.FreeSpace(e.opts.Dir) }

// LiveBytes returns the bytes of the log entries that are still live.
func (e *Engine) LiveBytes() int64 {
	e.segMu.Lock()
	defer e.segMu.Unlock()
	var total int64
	for _, n := range e.segMu.live {
		total += n
	}
	return total
}

// Durability returns the engine's durability policy.
func (e *Engine) Durability() commitlog.Durability { return e.opts.Durability }

// addLive adds delta live bytes to the segment holding pos.
// REQUIRES: e.segMu is not held.
func (e *Engine) addLive(pos uint64, delta int64) {
	base := e.segmentOf(pos)
	e.segMu.Lock()
	e.segMu.live[base] += delta
	e.segMu.Unlock()
}

// segmentOf returns the base of the segment holding pos.
func (e *Engine) segmentOf(pos uint64) uint64 {
	base, _ := e.log.SegmentBase(pos)
	return base
}

// get reads one key from the index; it returns nil if absent.
func get(r pebble.Reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return append([]byte(nil), v...), nil
}

// pebbleLogger sends Pebble's messages to the engine's log, errors only.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(string, ...interface{}) {}
func (p pebbleLogger) Errorf(format string, args ...interface{}) {
	p.l.Error("index: " + fmt.Sprintf(format, args...))
}

// Fatalf must not return (Pebble's contract: its state is unusable after a
// fatal error); the panic ends the process with the message.
func (p pebbleLogger) Fatalf(format string, args ...interface{}) {
	p.l.Error("index: fatal: " + fmt.Sprintf(format, args...))
	panic(fmt.Sprintf(format, args...))
}

var _ io.Closer = (*Engine)(nil)

// now returns the engine clock in milliseconds.
func (e *Engine) now() int64 { return e.opts.Now().UnixMilli() }
