package storagebench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
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
	// Median holds the median of each figure over the runs; its DDRatio
	// (the median of the runs' ratios to their dd) is the figure compared
	// with the target of append16.
	Median AppendRun `json:"median"`
	// VsAppend16 (append100k only) is Median.MBps over append16's
	// Median.MBps, the figure compared with append100k's target.
	VsAppend16 float64 `json:"vs_append16,omitempty"`
}

// appendSeries is one append workload of an interleaved series.
type appendSeries struct {
	name       string
	partitions int
	report     *AppendReport
	creates    []time.Duration
}

// runAppendSeries runs the runs of the selected append workloads
// interleaved with dd, so that every run has a dd just before and just
// after it on a disk in a comparable state:
//
//	dd, append16 run 1, dd, append100k run 1, dd, append16 run 2, dd, ...
//
// Each run works in a fresh directory, removed (and the removal synced)
// before the next dd. measure runs dd and returns nil when dd is skipped
// or failed. It fills rep.Append16 and rep.Append100k as they run, and
// stops at the first failed run, returning the workload it belongs to.
func runAppendSeries(ctx context.Context, cfg Config, rep *Report, measure func(when string) *DDResult) (string, error) {
	template, err := buildBatch(cfg.recordsPerBatch(), cfg.RecordSize, 1)
	if err != nil {
		return WorkloadAppend16, err
	}
	var series []*appendSeries
	for _, w := range []struct {
		name       string
		partitions int
		report     **AppendReport
	}{{WorkloadAppend16, cfg.Partitions, &rep.Append16}, {WorkloadAppend100k, cfg.ManyPartitions, &rep.Append100k}} {
		if !cfg.runs(w.name) {
			continue
		}
		s := &appendSeries{name: w.name, partitions: w.partitions, report: &AppendReport{Partitions: w.partitions,
			Writers: cfg.Writers, Inflight: cfg.Inflight, RecordsPerBatch: cfg.recordsPerBatch(), BatchBytes: len(template)}}
		*w.report = s.report
		series = append(series, s)
	}
	before := measure("start")
	defer func() {
		for _, s := range series {
			s.report.Median = medianRun(s.report.Runs)
			s.report.CreateTopic = median(s.creates)
		}
		if rep.Append16 != nil && rep.Append100k != nil {
			rep.Append100k.VsAppend16 = ratioOf(rep.Append100k.Median.MBps, rep.Append16.Median.MBps)
		}
	}()
	for i := range cfg.Runs {
		append16 := 0.0 // MB/s of this round's append16 run
		for _, s := range series {
			if err := ctx.Err(); err != nil {
				return s.name, err
			}
			label := fmt.Sprintf("%s run %d/%d", s.name, i+1, cfg.Runs)
			dir := filepath.Join(cfg.Dir, fmt.Sprintf("%s-run%d", s.name, i+1))
			cfg.progress("%s: starting", label)
			run, create, durability, err := appendRun(ctx, cfg, dir, label, s.partitions, template)
			os.RemoveAll(dir)
			syscall.Sync()
			if err != nil {
				return s.name, fmt.Errorf("run %d: %w", i+1, err)
			}
			after := measure("after " + label)
			run.bracket(before, after)
			before = after
			if s.name == WorkloadAppend16 {
				append16 = run.MBps
			} else {
				run.Append16Ratio = ratioOf(run.MBps, append16)
			}
			cfg.progress("%s: %.1f MB/s, dd %s, ratio %s", label, run.MBps, f1(run.DDMBps), ratio(run.MBps, run.DDMBps))
			s.report.Durability = durability
			s.report.Runs = append(s.report.Runs, run)
			s.creates = append(s.creates, create)
		}
	}
	return "", nil
}

// bracket records the dd runs just before and after the run: their mean
// (or the one there is) is the run's dd reference.
func (r *AppendRun) bracket(before, after *DDResult) {
	var sum float64
	var n int
	if before != nil {
		r.DDBeforeMBps = before.MBps
		sum += before.MBps
		n++
	}
	if after != nil {
		r.DDAfterMBps = after.MBps
		sum += after.MBps
		n++
	}
	if n > 0 {
		r.DDMBps = sum / float64(n)
		r.DDRatio = r.MBps / r.DDMBps
	}
}

func appendRun(ctx context.Context, cfg Config, dir, label string, partitions int, template []byte) (AppendRun, time.Duration, string, error) {
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
		progress: cfg.Progress, label: label,
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
		DDMBps:        pick(func(r AppendRun) float64 { return r.DDMBps }),
		DDRatio:       pick(func(r AppendRun) float64 { return r.DDRatio }),
		Append16Ratio: pick(func(r AppendRun) float64 { return r.Append16Ratio }),
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
