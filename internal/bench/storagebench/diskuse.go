package storagebench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/storage"
	"github.com/weir-io/weir/internal/storage/commitlog"
)

// The diskuse workload writes DiskUseBytes in diskUseRounds rounds, each
// interleaving (so that every segment mixes all three) appends to
//
//	retained   8 partitions, retention.bytes = DiskUseBytes/64 each: half
//	           of what is written
//	compacted  4 partitions, cleanup.policy=compact, delete.retention.ms=0,
//	           keys drawn from DiskUseBytes/32/RecordSize keys, one record
//	           in ten a tombstone: three tenths of what is written
//	trimmed    4 partitions, DeleteRecords up to the previous round's high
//	           watermark after each round: two tenths
//
// and runs the cleaner (Engine.RunCleaner; the background cleaner is off)
// after each round and diskUseFinalPasses times at the end. It then compares
// Engine.DiskUsage with Engine.LiveBytes and with the bytes a consumer reads
// from the log start of every partition.

const (
	diskUseRounds      = 8
	diskUseFinalPasses = 3
	diskUseWaitEvery   = 64 // appends between waits for durability
)

// DiskUseReport is the outcome of the diskuse workload.
type DiskUseReport struct {
	Written     int64 `json:"written_bytes"` // batch bytes appended
	SegmentSize int64 `json:"segment_size"`
	// Before the final cleaner passes, and after.
	DiskBefore int64 `json:"disk_before_bytes"`
	DiskUsage  int64 `json:"disk_usage_bytes"`
	LiveBytes  int64 `json:"live_bytes"`
	// ConsumerBytes is the sum of every partition's Offsets().Size: what a
	// consumer reads from the log starts.
	ConsumerBytes int64            `json:"consumer_bytes"`
	TopicBytes    map[string]int64 `json:"topic_bytes"`
	// Bound is 1.5 x LiveBytes + SegmentSize.
	Bound        int64           `json:"bound_bytes"`
	CleanerTimes []time.Duration `json:"cleaner_ns"`
	Elapsed      time.Duration   `json:"elapsed_ns"`
}

type diskUseTopic struct {
	name       string
	config     map[string]string
	partitions int
	weight     int // appends in each cycle of ten
	parts      []*storage.Partition
}

func runDiskUse(ctx context.Context, cfg Config) (*DiskUseReport, error) {
	if err := requireFree(cfg.Dir, 2*cfg.DiskUseBytes, "the diskuse workload"); err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.Dir, "diskuse")
	defer os.RemoveAll(dir)
	e, _, err := openEngine(engineOptions{dir: dir, segmentSize: cfg.SegmentSize, noCleaner: true})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	segment := cfg.SegmentSize
	if segment <= 0 {
		segment = commitlog.DefaultSegmentSize
	}
	rep := &DiskUseReport{SegmentSize: segment, TopicBytes: map[string]int64{}}
	topics := []*diskUseTopic{
		{name: "retained", partitions: 8, weight: 5,
			config: map[string]string{storage.ConfigRetentionBytes: strconv.FormatInt(cfg.DiskUseBytes/64, 10)}},
		{name: "compacted", partitions: 4, weight: 3,
			config: map[string]string{storage.ConfigCleanupPolicy: storage.CleanupCompact, storage.ConfigDeleteRetentionMs: "0"}},
		{name: "trimmed", partitions: 4, weight: 2},
	}
	for _, t := range topics {
		config, err := storage.DefaultTopicConfig().With(t.config)
		if err != nil {
			return nil, err
		}
		if t.parts, err = createTopic(e, t.name, t.partitions, config); err != nil {
			return nil, err
		}
	}
	w := &diskUseWriter{e: e, cfg: cfg, rng: rand.New(rand.NewPCG(7, 11)),
		keys: max(1, int(cfg.DiskUseBytes/32/int64(cfg.RecordSize)))}
	if w.template, err = buildBatch(cfg.recordsPerBatch(), cfg.RecordSize, 3); err != nil {
		return nil, err
	}
	started := time.Now()
	roundBytes := cfg.DiskUseBytes / diskUseRounds
	trimmed := topics[2]
	for round := range diskUseRounds {
		marks := make([]int64, len(trimmed.parts))
		for i, p := range trimmed.parts {
			marks[i] = p.Offsets().HighWatermark
		}
		if err := w.round(ctx, topics, roundBytes); err != nil {
			return rep, fmt.Errorf("round %d: %w", round+1, err)
		}
		for i, p := range trimmed.parts {
			if _, err := p.DeleteRecords(ctx, marks[i]); err != nil {
				return rep, fmt.Errorf("delete records: %w", err)
			}
		}
		if err := rep.clean(ctx, e); err != nil {
			return rep, err
		}
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "diskuse: round %d/%d, %.0f MiB written, disk %.0f MiB, live %.0f MiB\n",
				round+1, diskUseRounds, float64(w.written)/(1<<20), float64(e.DiskUsage())/(1<<20), float64(e.LiveBytes())/(1<<20))
		}
	}
	rep.DiskBefore = e.DiskUsage()
	for range diskUseFinalPasses {
		if err := rep.clean(ctx, e); err != nil {
			return rep, err
		}
	}
	rep.Elapsed = time.Since(started)
	rep.Written = w.written
	rep.DiskUsage = e.DiskUsage()
	rep.LiveBytes = e.LiveBytes()
	for _, t := range topics {
		for _, p := range t.parts {
			size := p.Offsets().Size
			rep.TopicBytes[t.name] += size
			rep.ConsumerBytes += size
		}
	}
	rep.Bound = rep.LiveBytes*3/2 + segment
	return rep, nil
}

func (rep *DiskUseReport) clean(ctx context.Context, e *engine) error {
	started := time.Now()
	if err := e.RunCleaner(ctx); err != nil {
		return fmt.Errorf("cleaner: %w", err)
	}
	rep.CleanerTimes = append(rep.CleanerTimes, time.Since(started))
	return nil
}

// diskUseWriter appends the diskuse workload's batches from one goroutine,
// waiting for durability every diskUseWaitEvery appends.
type diskUseWriter struct {
	e        *engine
	cfg      Config
	rng      *rand.Rand
	keys     int
	template []byte
	written  int64
	next     int // appends so far, for the round-robin
	pending  int
	last     storage.AppendResult
}

func (w *diskUseWriter) round(ctx context.Context, topics []*diskUseTopic, bytes int64) error {
	var cycle []*diskUseTopic
	for _, t := range topics {
		for range t.weight {
			cycle = append(cycle, t)
		}
	}
	target := w.written + bytes
	for w.written < target {
		t := cycle[w.next%len(cycle)]
		p := t.parts[(w.next/len(cycle))%len(t.parts)]
		w.next++
		var batch []byte
		if t.name == "compacted" {
			var err error
			if batch, err = w.keyedBatch(); err != nil {
				return err
			}
		} else {
			batch = append([]byte(nil), w.template...)
		}
		r, err := p.Append(batch)
		if err != nil {
			return fmt.Errorf("append to %s/%d: %w", t.name, p.Index(), err)
		}
		w.written += int64(len(batch))
		w.last = r
		if w.pending++; w.pending == diskUseWaitEvery {
			if err := w.flush(ctx); err != nil {
				return err
			}
		}
	}
	return w.flush(ctx)
}

func (w *diskUseWriter) flush(ctx context.Context) error {
	if w.pending == 0 {
		return nil
	}
	w.pending = 0
	return w.e.WaitDurable(ctx, w.last)
}

// keyedBatch builds a batch of records with random keys of the key space,
// one in ten a tombstone.
func (w *diskUseWriter) keyedBatch() ([]byte, error) {
	records := make([]kmsg.Record, w.cfg.recordsPerBatch())
	value := w.template[len(w.template)-w.cfg.RecordSize:] // any bytes will do
	for i := range records {
		records[i] = kmsg.NewRecord()
		records[i].OffsetDelta = int32(i)
		records[i].Key = []byte("key-" + strconv.Itoa(w.rng.IntN(w.keys)))
		if w.rng.IntN(10) != 0 {
			records[i].Value = value
		}
	}
	return buildRecords(records, time.Now().UnixMilli())
}
