package storagebench

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage"
	"github.com/weir-io/weir/internal/vfs"
)

// engine is an open storage engine with what the benchmark observes of it.
type engine struct {
	*storage.Engine
	fs     *countingFS
	opened *openCapture
}

// engineOptions are the options every workload uses: the engine's defaults
// (durable appends, 30 s checkpoints, background cleaner), with the
// commit log's file system wrapped to count fsyncs and the logs captured.
type engineOptions struct {
	dir         string
	segmentSize int64
	noCleaner   bool // diskuse runs the cleaner itself
}

func openEngine(o engineOptions) (*engine, time.Duration, error) {
	fs := &countingFS{FS: vfs.Default}
	capture := &openCapture{}
	opts := storage.Options{
		Dir:         o.dir,
		FS:          fs,
		SegmentSize: o.segmentSize,
		Logger:      slog.New(capture),
	}
	if o.noCleaner {
		opts.CleanerInterval = -1
	}
	started := time.Now()
	e, err := storage.Open(opts)
	took := time.Since(started)
	if err != nil {
		return nil, took, fmt.Errorf("open engine in %s: %w", o.dir, err)
	}
	return &engine{Engine: e, fs: fs, opened: capture}, took, nil
}

// countingFS counts the fsyncs of the files opened through it.
type countingFS struct {
	vfs.FS
	syncs atomic.Int64
}

type countingFile struct {
	vfs.File
	fs *countingFS
}

func (f countingFile) Sync() error {
	f.fs.syncs.Add(1)
	return f.File.Sync()
}

func (c *countingFS) wrap(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return countingFile{File: f, fs: c}, nil
}

func (c *countingFS) Create(name string) (vfs.File, error) { return c.wrap(c.FS.Create(name)) }
func (c *countingFS) OpenReadWrite(name string) (vfs.File, error) {
	return c.wrap(c.FS.OpenReadWrite(name))
}
func (c *countingFS) Open(name string) (vfs.File, error) { return c.wrap(c.FS.Open(name)) }

// openCapture is a slog handler that keeps the figures of the engine's
// "storage opened" line and passes warnings and errors to stderr.
type openCapture struct {
	mu     sync.Mutex
	report OpenLog
}

// OpenLog holds the figures of the engine's "storage opened" log line.
type OpenLog struct {
	Seen            bool          `json:"seen"`
	Partitions      int64         `json:"partitions"`
	LogBytes        int64         `json:"log_bytes"`
	ReplayedEntries int64         `json:"replayed_entries"`
	ReplayedBytes   int64         `json:"replayed_bytes"`
	TornBytes       int64         `json:"torn_bytes_truncated"`
	Corruptions     int64         `json:"corruptions"`
	IndexDropped    int64         `json:"index_entries_dropped"`
	Took            time.Duration `json:"took_ns"`
}

var stderrHandler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})

func (h *openCapture) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelInfo
}

func (h *openCapture) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "storage opened" {
		h.mu.Lock()
		h.report.Seen = true
		r.Attrs(func(a slog.Attr) bool {
			v := a.Value.Resolve()
			var n int64
			switch v.Kind() {
			case slog.KindInt64:
				n = v.Int64()
			case slog.KindUint64:
				n = int64(v.Uint64())
			case slog.KindDuration:
				n = int64(v.Duration())
			}
			switch a.Key {
			case "partitions":
				h.report.Partitions = n
			case "log_bytes":
				h.report.LogBytes = n
			case "replayed_entries":
				h.report.ReplayedEntries = n
			case "replayed_bytes":
				h.report.ReplayedBytes = n
			case "torn_bytes_truncated":
				h.report.TornBytes = n
			case "corruptions":
				h.report.Corruptions = n
			case "index_entries_dropped":
				h.report.IndexDropped = n
			case "took":
				h.report.Took = time.Duration(n)
			}
			return true
		})
		h.mu.Unlock()
	}
	if r.Level >= slog.LevelWarn {
		return stderrHandler.Handle(ctx, r)
	}
	return nil
}

func (h *openCapture) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *openCapture) WithGroup(string) slog.Handler      { return h }

func (h *openCapture) get() OpenLog {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.report
}

// buildBatch builds an uncompressed v2 batch of n records with values of
// valueSize pseudo-random bytes (so that nothing downstream can profit
// from zeros) and keys "k<i>".
func buildBatch(n, valueSize int, seed uint64) ([]byte, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	now := time.Now().UnixMilli()
	records := make([]kmsg.Record, n)
	for i := range records {
		value := make([]byte, valueSize)
		for j := 0; j < len(value); j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8 && j+k < len(value); k++ {
				value[j+k] = byte(v >> (8 * k))
			}
		}
		records[i] = kmsg.NewRecord()
		records[i].Key = []byte(fmt.Sprintf("k%d", i))
		records[i].Value = value
		records[i].OffsetDelta = int32(i)
	}
	return buildRecords(records, now)
}

// buildRecords builds an uncompressed batch of records timestamped ts.
func buildRecords(records []kmsg.Record, ts int64) ([]byte, error) {
	h := recordbatch.Header{
		PartitionLeaderEpoch: -1, LastOffsetDelta: int32(len(records) - 1),
		BaseTimestamp: ts, MaxTimestamp: ts,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
	}
	return recordbatch.Build(h, records)
}
