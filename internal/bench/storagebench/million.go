package storagebench

import (
	"fmt"
	"os"
	"path/filepath"
)

// MillionReport is the outcome of the million workload.
type MillionReport struct {
	Topics          int `json:"topics"`
	TopicPartitions int `json:"topic_partitions"`
	Partitions      int `json:"partitions"`
	BatchBytes      int `json:"batch_bytes"`
	// Fill is the report of the process that created the partitions and
	// appended one batch to each; its Memory is the resident memory of a
	// process holding the engine open with every partition.
	Fill FillResult `json:"fill"`
	// AfterKill is the reopen after the fill process was killed with
	// SIGKILL; AfterClose the reopen after that process closed cleanly.
	AfterKill  ReopenResult `json:"after_kill"`
	AfterClose ReopenResult `json:"after_close"`
}

func runMillion(cfg Config) (*MillionReport, error) {
	dir := filepath.Join(cfg.Dir, "million")
	defer os.RemoveAll(dir)
	per := min(cfg.TopicPartitions, cfg.MillionPartitions)
	rep := &MillionReport{Topics: cfg.MillionPartitions / per, TopicPartitions: per}
	rep.Partitions = rep.Topics * per
	template, err := buildBatch(1, cfg.MillionRecordSize, 1)
	if err != nil {
		return nil, err
	}
	rep.BatchBytes = len(template)
	err = cfg.fillAndKill(&rep.Fill, childSpec{Mode: childFill, Dir: dir, SegmentSize: cfg.SegmentSize,
		Topics: rep.Topics, TopicPartitions: per, Records: 1, RecordSize: cfg.MillionRecordSize,
		Writers: cfg.Writers, Inflight: cfg.Inflight, Appends: int64(rep.Partitions)})
	if err != nil {
		return rep, err
	}
	want := int64(rep.Partitions)
	if rep.AfterKill, err = cfg.reopen(dir, want, want*int64(rep.BatchBytes)); err != nil {
		return rep, fmt.Errorf("reopen after SIGKILL: %w", err)
	}
	if rep.AfterClose, err = cfg.reopen(dir, want, want*int64(rep.BatchBytes)); err != nil {
		return rep, fmt.Errorf("reopen after a clean shutdown: %w", err)
	}
	return rep, nil
}
