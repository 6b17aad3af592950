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
		SegmentSize: cfg.SegmentSize,
	}
	var errs []error
	failed := func(name string, err error) {
		rep.Errors[name] = err.Error()
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	var dd *DDReference
	if !cfg.SkipDD {
		dd = &DDReference{Method: "mean of the runs before and after the workloads"}
		rep.DD = dd
		cfg.progress("dd: before the workloads")
		if r, err := RunDD(ctx, cfg.Dir, cfg.DDMiB); err != nil {
			failed("dd", err)
		} else {
			dd.Before = &r
		}
	}
	for _, name := range cfg.Workloads {
		if ctx.Err() != nil {
			break
		}
		cfg.progress("%s: starting", name)
		started := time.Now()
		var err error
		switch name {
		case WorkloadAppend16:
			rep.Append16, err = runAppendWorkload(ctx, cfg, name, cfg.Partitions)
		case WorkloadAppend100k:
			rep.Append100k, err = runAppendWorkload(ctx, cfg, name, cfg.ManyPartitions)
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
	if dd != nil {
		cfg.progress("dd: after the workloads")
		if r, err := RunDD(ctx, cfg.Dir, cfg.DDMiB); err != nil {
			failed("dd", err)
		} else {
			dd.After = &r
		}
		var sum float64
		var n int
		for _, r := range []*DDResult{dd.Before, dd.After} {
			if r != nil {
				sum += r.MBps
				n++
			}
		}
		if n > 0 {
			dd.MBps = sum / float64(n)
		}
	}
	rep.Elapsed = time.Since(rep.Started)
	rep.addChecks()
	return rep, errors.Join(errs...)
}

func (c Config) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}
