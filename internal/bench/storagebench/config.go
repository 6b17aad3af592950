package storagebench

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Workload names, as --workload takes them.
const (
	WorkloadAppend16   = "append16"
	WorkloadAppend100k = "append100k"
	WorkloadMillion    = "million"
	WorkloadRead       = "read"
	WorkloadRecovery   = "recovery"
	WorkloadDiskUse    = "diskuse"
)

// Workloads lists every workload in the order "all" runs them.
var Workloads = []string{WorkloadAppend16, WorkloadAppend100k, WorkloadMillion, WorkloadRead, WorkloadRecovery, WorkloadDiskUse}

// Config configures a run. DefaultConfig gives the figures of the issue.
type Config struct {
	// Dir is where the data goes; each workload works in a subdirectory,
	// removed when it is done.
	Dir       string
	Workloads []string
	// Duration is how long a throughput run appends; Runs is how many runs
	// of each throughput workload are made (the median is reported).
	Duration time.Duration
	Runs     int
	// RecordSize is the value size of a record; BatchSize the batch's
	// records section target (BatchSize/RecordSize records a batch).
	RecordSize int
	BatchSize  int
	// Writers append concurrently; each keeps up to Inflight appends
	// waiting for their fsync.
	Writers  int
	Inflight int
	// Partitions of append16; ManyPartitions of append100k;
	// MillionPartitions of million, in topics of TopicPartitions.
	Partitions        int
	ManyPartitions    int
	MillionPartitions int
	TopicPartitions   int
	// MillionRecordSize is the value size of million's one-record batches.
	MillionRecordSize int
	// ReadBytes is the size of the partition read; ReadMaxBytes the
	// maxBytes of each Partition.Read call.
	ReadBytes    int64
	ReadMaxBytes int
	// RecoveryBytes is the log written before the kill in recovery.
	RecoveryBytes int64
	// DiskUseBytes is the data written in diskuse.
	DiskUseBytes int64
	// SegmentSize is the engine's commit log segment size (0: the
	// engine's default, 128 MiB).
	SegmentSize int64
	// SkipDD skips the dd reference; DDMiB is dd's count (2048).
	SkipDD bool
	DDMiB  int
	// Child returns the command that runs RunChild(spec) in a new process.
	// The million and recovery workloads need it.
	Child func(spec string) *exec.Cmd
	// Progress, when not nil, receives a line now and then during long
	// workloads.
	Progress io.Writer
}

// DefaultConfig returns the configuration of the targets.
func DefaultConfig() Config {
	return Config{
		Workloads:         slices.Clone(Workloads),
		Duration:          20 * time.Second,
		Runs:              3,
		RecordSize:        1024,
		BatchSize:         16 << 10,
		Writers:           8,
		Inflight:          64,
		Partitions:        16,
		ManyPartitions:    100_000,
		MillionPartitions: 1_000_000,
		TopicPartitions:   1_000,
		MillionRecordSize: 100,
		ReadBytes:         1 << 30,
		ReadMaxBytes:      1 << 20,
		RecoveryBytes:     10 << 30,
		DiskUseBytes:      2 << 30,
		DDMiB:             2048,
	}
}

// ParseWorkloads parses a comma-separated list of workload names; "all"
// stands for every workload.
func ParseWorkloads(s string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "all":
			for _, w := range Workloads {
				if !slices.Contains(out, w) {
					out = append(out, w)
				}
			}
		case slices.Contains(Workloads, name):
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		default:
			return nil, fmt.Errorf("unknown workload %q: want all or some of %s", name, strings.Join(Workloads, ","))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no workload")
	}
	// Run in the canonical order: append100k is compared with append16.
	slices.SortFunc(out, func(a, b string) int { return slices.Index(Workloads, a) - slices.Index(Workloads, b) })
	return out, nil
}

func (c Config) validate() error {
	switch {
	case c.Dir == "":
		return errors.New("no data directory")
	case c.Runs < 1:
		return fmt.Errorf("runs %d: want at least 1", c.Runs)
	case c.RecordSize < 1 || c.BatchSize < c.RecordSize:
		return fmt.Errorf("record size %d, batch size %d: want 1 <= record size <= batch size", c.RecordSize, c.BatchSize)
	case c.Writers < 1 || c.Inflight < 1:
		return fmt.Errorf("writers %d, inflight %d: want at least 1 each", c.Writers, c.Inflight)
	case c.Partitions < 1 || c.ManyPartitions < 1 || c.MillionPartitions < 1 || c.TopicPartitions < 1:
		return errors.New("partition counts must be positive")
	case c.Duration <= 0:
		return fmt.Errorf("duration %v: want positive", c.Duration)
	case c.ReadBytes <= 0 || c.ReadMaxBytes <= 0 || c.RecoveryBytes <= 0 || c.DiskUseBytes <= 0:
		return errors.New("sizes must be positive")
	}
	return nil
}

func (c Config) runs(workload string) bool { return slices.Contains(c.Workloads, workload) }

// recordsPerBatch is how many records of RecordSize make a batch.
func (c Config) recordsPerBatch() int { return max(1, c.BatchSize/c.RecordSize) }
