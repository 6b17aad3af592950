package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/weir-io/weir/internal/bench/storagebench"
)

// newBenchStorageCommand is `weir bench storage`: the storage engine's
// benchmarks against the targets of the storage issue (see package
// storagebench and docs/benchmarks.md).
func newBenchStorageCommand() *cobra.Command {
	cfg := storagebench.DefaultConfig()
	var (
		workloads  string
		output     string
		readMiB    int64
		logGiB     float64
		diskUseMiB int64
		child      string
	)
	cmd := &cobra.Command{
		Use:   "storage",
		Short: "Benchmark the storage engine: durable appends, a million partitions, reads, recovery, disk use",
		Long: `Benchmark the storage engine against its targets. Every throughput figure is
printed beside the machine's sequential write bandwidth, measured in the same
run and on the same file system with
  dd if=/dev/zero of=DIR/dd.tmp bs=1M count=2048 conv=fdatasync
The runs of append16 and append100k are interleaved with dd (dd, append16
run 1, dd, append100k run 1, dd, ...): each run is compared with the mean of
the dd just before and just after it, and the median of those per-run ratios
is judged. The other workloads have a dd before and after them. Throughput
workloads run --runs times; medians are reported. See docs/benchmarks.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if child != "" {
				return storagebench.RunChild(ctx, child, cmd.OutOrStdout())
			}
			return runBenchStorage(ctx, cmd, cfg, workloads, output, readMiB, logGiB, diskUseMiB)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Dir, "dir", "", "data directory (default: a temporary directory, removed afterwards); use one on the disk to measure")
	f.StringVar(&workloads, "workload", "all", "workloads, comma-separated: all, append16, append100k, million, read, recovery, diskuse")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long each throughput run appends")
	f.IntVar(&cfg.Runs, "runs", cfg.Runs, "runs of each throughput workload (append16, append100k, read), e.g. 3 or 5; medians are reported")
	f.IntVar(&cfg.RecordSize, "record-size", cfg.RecordSize, "record value size in bytes")
	f.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "batch size in bytes (batch-size/record-size records a batch)")
	f.IntVar(&cfg.Writers, "writers", cfg.Writers, "concurrent writers")
	f.IntVar(&cfg.Inflight, "inflight", cfg.Inflight, "appends a writer may have waiting for their fsync at once, like a producer's max.in.flight")
	f.IntVar(&cfg.Partitions, "partitions", cfg.Partitions, "partitions of append16 and recovery")
	f.IntVar(&cfg.ManyPartitions, "many-partitions", cfg.ManyPartitions, "partitions of append100k")
	f.IntVar(&cfg.MillionPartitions, "million-partitions", cfg.MillionPartitions, "partitions of million, in topics of 1,000")
	f.Int64Var(&readMiB, "read-mib", cfg.ReadBytes>>20, "size of the partition the read workload reads, in MiB")
	f.IntVar(&cfg.ReadMaxBytes, "read-max-bytes", cfg.ReadMaxBytes, "maxBytes of each Partition.Read in the read workload")
	f.Float64Var(&logGiB, "log-gib", float64(cfg.RecoveryBytes)/(1<<30), "GiB in the log when the recovery workload kills the engine")
	f.Int64Var(&diskUseMiB, "diskuse-mib", cfg.DiskUseBytes>>20, "MiB written by the diskuse workload")
	f.StringVar(&output, "output", "text", "output format: text or json")
	f.BoolVar(&cfg.SkipDD, "skip-dd", false, "skip the dd reference measurement")
	f.StringVar(&child, "child", "", "run as a child process of the benchmark (internal)")
	f.MarkHidden("child")
	return cmd
}

func runBenchStorage(ctx context.Context, cmd *cobra.Command, cfg storagebench.Config, workloads, output string, readMiB int64, logGiB float64, diskUseMiB int64) error {
	if output != "text" && output != "json" {
		return fmt.Errorf("--output %q: want text or json", output)
	}
	var err error
	if cfg.Workloads, err = storagebench.ParseWorkloads(workloads); err != nil {
		return err
	}
	cfg.ReadBytes = readMiB << 20
	cfg.RecoveryBytes = int64(logGiB * (1 << 30))
	cfg.DiskUseBytes = diskUseMiB << 20
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "weir-bench-storage-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.Dir = dir
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the weir binary to run child processes: %w", err)
	}
	cfg.Child = func(spec string) *exec.Cmd {
		return exec.Command(self, "bench", "storage", "--child", spec)
	}
	cfg.Progress = cmd.ErrOrStderr()
	report, runErr := storagebench.Run(ctx, cfg)
	if report == nil {
		return runErr
	}
	out := cmd.OutOrStdout()
	if output == "json" {
		err = report.WriteJSON(out)
	} else {
		err = report.WriteText(out)
	}
	if err != nil {
		return err
	}
	return runErr
}
