package storagebench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Run runs the configured workloads and returns their report. A workload
// that fails is recorded in Report.Errors and the others still run; the
// returned error joins those failures. Missing a target is not an error.
//
// The dd reference is measured around the workloads: the runs of append16
// and append100k are interleaved with dd (see runAppendSeries), and the
// other workloads have a dd before them (the last of the series, when the
// append workloads ran) and one after them. Report.DD holds every dd run;
// its median is the reference of the figures that are not runs of an
// append workload (read, recovery's write).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", cfg.Dir, err)
	}
	rep := &Report{Machine: describeMachine(cfg.Dir), Started: time.Now(), Errors: map[string]string{}}
	rep.Config = ReportConfig{
		Workloads: cfg.Workloads, Duration: cfg.Duration, Runs: cfg.Runs, RecordSize: cfg.RecordSize,
		BatchSize: cfg.BatchSize, Writers: cfg.Writers, Inflight: cfg.Inflight, Partitions: cfg.Partitions,
		ManyPartitions: cfg.ManyPartitions, MillionPartitions: cfg.MillionPartitions, ReadBytes: cfg.ReadBytes,
		ReadMaxBytes: cfg.ReadMaxBytes, RecoveryBytes: cfg.RecoveryBytes, DiskUseBytes: cfg.DiskUseBytes,
		SegmentSize: cfg.SegmentSize, DDMiB: cfg.DDMiB,
	}
	var errs []error
	failed := func(name string, err error) {
		rep.Errors[name] = err.Error()
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	if !cfg.SkipDD {
		rep.DD = &DDReference{Method: ddMethod}
	}
	// measure runs dd, labelled when, and returns its result (nil when dd
	// is skipped or failed).
	measure := func(when string) *DDResult {
		if rep.DD == nil || ctx.Err() != nil {
			return nil
		}
		r, err := RunDD(ctx, cfg.Dir, cfg.DDMiB)
		if err != nil {
			failed("dd "+when, err)
			return nil
		}
		cfg.progress("dd %s: %.1f MB/s", when, r.MBps)
		rep.DD.Samples = append(rep.DD.Samples, DDSample{When: when, DDResult: r})
		return &r
	}
	var others []string
	for _, name := range cfg.Workloads {
		if name != WorkloadAppend16 && name != WorkloadAppend100k {
			others = append(others, name)
		}
	}
	if len(others) < len(cfg.Workloads) {
		started := time.Now()
		if name, err := runAppendSeries(ctx, cfg, rep, measure); err != nil {
			failed(name, err)
		}
		cfg.progress("append workloads: done in %s", dur(time.Since(started)))
	}
	if len(others) > 0 && rep.DD != nil && len(rep.DD.Samples) == 0 {
		measure("before the workloads")
	}
	for _, name := range others {
		if ctx.Err() != nil {
			break
		}
		cfg.progress("%s: starting", name)
		started := time.Now()
		var err error
		switch name {
		case WorkloadMillion:
			rep.Million, err = runMillion(cfg)
		case WorkloadRead:
			rep.Read, err = runRead(ctx, cfg)
		case WorkloadRecovery:
			rep.Recovery, err = runRecovery(cfg)
		case WorkloadDiskUse:
			rep.DiskUse, err = runDiskUse(ctx, cfg)
		}
		if err != nil {
			failed(name, err)
		}
		cfg.progress("%s: done in %s", name, dur(time.Since(started)))
	}
	if len(others) > 0 {
		measure("after the workloads")
	}
	if d := rep.DD; d != nil {
		var v []float64
		for _, s := range d.Samples {
			v = append(v, s.MBps)
		}
		d.MBps = median(v)
	}
	rep.Elapsed = time.Since(rep.Started)
	rep.addChecks()
	return rep, errors.Join(errs...)
}

const ddMethod = "append16 and append100k: each run against the mean of the dd just before and just after it, " +
	"the median of the runs' ratios judged; other figures: the median of every dd of the run"

func (c Config) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}
