package storagebench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/weir-io/weir/internal/storage"
)

// AppendReport is the outcome of append16 or append100k.
type AppendReport struct {
	Partitions      int    `json:"partitions"`
	Writers         int    `json:"writers"`
	Inflight        int    `json:"inflight"`
	RecordsPerBatch int    `json:"records_per_batch"`
	BatchBytes      int    `json:"batch_bytes"`
	Durability      string `json:"durability"`
	// CreateTopic is how long creating the topic took (median).
	CreateTopic time.Duration `json:"create_topic_ns"`
	Runs        []AppendRun   `json:"runs"`
	// Median holds the median of each figure over the runs.
	Median AppendRun `json:"median"`
}

// runAppendWorkload runs append16 or append100k: cfg.Runs runs, each on a
// fresh engine with one topic of partitions partitions.
func runAppendWorkload(ctx context.Context, cfg Config, name string, partitions int) (*AppendReport, error) {
	template, err := buildBatch(cfg.recordsPerBatch(), cfg.RecordSize, 1)
	if err != nil {
		return nil, err
	}
	rep := &AppendReport{Partitions: partitions, Writers: cfg.Writers, Inflight: cfg.Inflight,
		RecordsPerBatch: cfg.recordsPerBatch(), BatchBytes: len(template)}
	var creates []time.Duration
	for i := range cfg.Runs {
		dir := filepath.Join(cfg.Dir, fmt.Sprintf("%s-run%d", name, i+1))
		run, create, durability, err := appendRun(ctx, cfg, dir, name, partitions, template, i)
		os.RemoveAll(dir)
		if err != nil {
			return rep, fmt.Errorf("run %d: %w", i+1, err)
		}
		rep.Durability = durability
		rep.Runs = append(rep.Runs, run)
		creates = append(creates, create)
	}
	rep.Median = medianRun(rep.Runs)
	rep.CreateTopic = median(creates)
	return rep, nil
}

func appendRun(ctx context.Context, cfg Config, dir, name string, partitions int, template []byte, i int) (AppendRun, time.Duration, string, error) {
	e, _, err := openEngine(engineOptions{dir: dir, segmentSize: cfg.SegmentSize})
	if err != nil {
		return AppendRun{}, 0, "", err
	}
	defer e.Close()
	started := time.Now()
	parts, err := createTopic(e, "bench", partitions, storage.DefaultTopicConfig())
	if err != nil {
		return AppendRun{}, 0, "", err
	}
	create := time.Since(started)
	run, err := runAppends(ctx, appendParams{
		engine: e, partitions: parts, template: template,
		writers: cfg.Writers, inflight: cfg.Inflight, duration: cfg.Duration,
		progress: cfg.Progress, label: fmt.Sprintf("%s run %d/%d", name, i+1, cfg.Runs),
	})
	if err != nil {
		return AppendRun{}, 0, "", err
	}
	if err := e.Close(); err != nil {
		return AppendRun{}, 0, "", fmt.Errorf("close: %w", err)
	}
	return run, create, e.Durability().String(), nil
}

// medianRun returns the median of each figure of runs.
func medianRun(runs []AppendRun) AppendRun {
	pick := func(f func(AppendRun) float64) float64 {
		var v []float64
		for _, r := range runs {
			v = append(v, f(r))
		}
		return median(v)
	}
	dur := func(f func(AppendRun) time.Duration) time.Duration {
		return time.Duration(pick(func(r AppendRun) float64 { return float64(f(r)) }))
	}
	return AppendRun{
		Appends:       int64(pick(func(r AppendRun) float64 { return float64(r.Appends) })),
		Bytes:         int64(pick(func(r AppendRun) float64 { return float64(r.Bytes) })),
		Elapsed:       dur(func(r AppendRun) time.Duration { return r.Elapsed }),
		MBps:          pick(func(r AppendRun) float64 { return r.MBps }),
		AppendsPerSec: pick(func(r AppendRun) float64 { return r.AppendsPerSec }),
		Fsyncs:        int64(pick(func(r AppendRun) float64 { return float64(r.Fsyncs) })),
		FsyncsPerSec:  pick(func(r AppendRun) float64 { return r.FsyncsPerSec }),
		LatencyP50:    dur(func(r AppendRun) time.Duration { return r.LatencyP50 }),
		LatencyP99:    dur(func(r AppendRun) time.Duration { return r.LatencyP99 }),
		LatencyP999:   dur(func(r AppendRun) time.Duration { return r.LatencyP999 }),
		LatencyMax:    dur(func(r AppendRun) time.Duration { return r.LatencyMax }),
		CPU:           pick(func(r AppendRun) float64 { return r.CPU }),
	}
}

// median returns the median of v (the mean of the middle two for an even
// count); zero for none.
func median[T ~int64 | ~float64](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
