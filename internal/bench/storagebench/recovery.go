package storagebench

import (
	"fmt"
	"os"
	"path/filepath"
)

// RecoveryReport is the outcome of the recovery workload.
type RecoveryReport struct {
	Partitions int   `json:"partitions"`
	BatchBytes int   `json:"batch_bytes"`
	Batches    int64 `json:"batches"`
	Bytes      int64 `json:"bytes"` // batch bytes appended and acknowledged
	// Fill is the report of the process that appended and was killed; its
	// Append figures are a long append16 run.
	Fill FillResult `json:"fill"`
	// AfterKill is the reopen after SIGKILL; AfterClose the reopen after
	// that process closed cleanly.
	AfterKill  ReopenResult `json:"after_kill"`
	AfterClose ReopenResult `json:"after_close"`
}

func runRecovery(cfg Config) (*RecoveryReport, error) {
	if err := requireFree(cfg.Dir, 2*cfg.RecoveryBytes, "the recovery workload"); err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.Dir, "recovery")
	defer os.RemoveAll(dir)
	template, err := buildBatch(cfg.recordsPerBatch(), cfg.RecordSize, 1)
	if err != nil {
		return nil, err
	}
	rep := &RecoveryReport{Partitions: cfg.Partitions, BatchBytes: len(template)}
	rep.Batches = (cfg.RecoveryBytes + int64(len(template)) - 1) / int64(len(template))
	rep.Bytes = rep.Batches * int64(len(template))
	err = cfg.fillAndKill(&rep.Fill, childSpec{Mode: childFill, Dir: dir, SegmentSize: cfg.SegmentSize,
		Topics: 1, TopicPartitions: cfg.Partitions, Records: cfg.recordsPerBatch(), RecordSize: cfg.RecordSize,
		Writers: cfg.Writers, Inflight: cfg.Inflight, Appends: rep.Batches})
	if err != nil {
		return rep, err
	}
	if rep.AfterKill, err = cfg.reopen(dir, rep.Batches, rep.Bytes); err != nil {
		return rep, fmt.Errorf("reopen after SIGKILL: %w", err)
	}
	if rep.AfterClose, err = cfg.reopen(dir, rep.Batches, rep.Bytes); err != nil {
		return rep, fmt.Errorf("reopen after a clean shutdown: %w", err)
	}
	return rep, nil
}
