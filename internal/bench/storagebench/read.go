package storagebench

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage"
)

// ReadReport is the outcome of the read workload.
type ReadReport struct {
	Bytes      int64         `json:"bytes"` // batch bytes in the partition
	Batches    int64         `json:"batches"`
	MaxBytes   int           `json:"max_bytes"` // of each Partition.Read
	WriteMBps  float64       `json:"write_mb_per_s"`
	WarmRead   ReadRun       `json:"warm_read"`
	Runs       []ReadRun     `json:"runs"`
	Median     ReadRun       `json:"median"`
	WriteTime  time.Duration `json:"write_ns"`
	Durability string        `json:"durability"`
}

// ReadRun is one sequential read of the whole partition.
type ReadRun struct {
	Bytes   int64         `json:"bytes"`
	Calls   int64         `json:"calls"`
	Elapsed time.Duration `json:"elapsed_ns"`
	GBps    float64       `json:"gb_per_s"`
	CPU     float64       `json:"cpu_cores"`
}

func runRead(ctx context.Context, cfg Config) (*ReadReport, error) {
	dir := filepath.Join(cfg.Dir, "read")
	defer os.RemoveAll(dir)
	if err := requireFree(cfg.Dir, cfg.ReadBytes*2, "the read workload"); err != nil {
		return nil, err
	}
	e, _, err := openEngine(engineOptions{dir: dir, segmentSize: cfg.SegmentSize})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	parts, err := createTopic(e, "bench", 1, storage.DefaultTopicConfig())
	if err != nil {
		return nil, err
	}
	template, err := buildBatch(cfg.recordsPerBatch(), cfg.RecordSize, 1)
	if err != nil {
		return nil, err
	}
	appends := (cfg.ReadBytes + int64(len(template)) - 1) / int64(len(template))
	w, err := runAppends(ctx, appendParams{engine: e, partitions: parts, template: template,
		writers: cfg.Writers, inflight: cfg.Inflight, appends: appends, progress: cfg.Progress, label: "read: writing"})
	if err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	rep := &ReadReport{Bytes: w.Bytes, Batches: w.Appends, MaxBytes: cfg.ReadMaxBytes,
		WriteMBps: w.MBps, WriteTime: w.Elapsed, Durability: e.Durability().String()}
	p := parts[0]
	if rep.WarmRead, err = readPartition(p, cfg.ReadMaxBytes, rep.Bytes); err != nil {
		return rep, err
	}
	for range cfg.Runs {
		run, err := readPartition(p, cfg.ReadMaxBytes, rep.Bytes)
		if err != nil {
			return rep, err
		}
		rep.Runs = append(rep.Runs, run)
	}
	var gbps, cpu []float64
	var elapsed []time.Duration
	for _, r := range rep.Runs {
		gbps, cpu, elapsed = append(gbps, r.GBps), append(cpu, r.CPU), append(elapsed, r.Elapsed)
	}
	rep.Median = ReadRun{Bytes: rep.Runs[0].Bytes, Calls: rep.Runs[0].Calls,
		Elapsed: median(elapsed), GBps: median(gbps), CPU: median(cpu)}
	return rep, nil
}

// readPartition reads p from its log start to its high watermark with
// Partition.Read calls of maxBytes, and checks it read want bytes.
func readPartition(p *storage.Partition, maxBytes int, want int64) (ReadRun, error) {
	var run ReadRun
	cpuBefore := cpuTime()
	started := time.Now()
	off := p.Offsets()
	for offset := off.LogStart; offset < off.HighWatermark; {
		r, err := p.Read(offset, maxBytes)
		if err != nil {
			return run, fmt.Errorf("read at offset %d: %w", offset, err)
		}
		run.Calls++
		if len(r.Records) == 0 {
			return run, fmt.Errorf("read at offset %d below the high watermark %d returned nothing", offset, off.HighWatermark)
		}
		run.Bytes += int64(len(r.Records))
		next, err := nextOffset(r.Records)
		// As a broker does once the fetch response is written.
		r.Release()
		if err != nil {
			return run, err
		}
		offset = next
	}
	run.Elapsed = time.Since(started)
	run.CPU = (cpuTime() - cpuBefore).Seconds() / run.Elapsed.Seconds()
	run.GBps = float64(run.Bytes) / run.Elapsed.Seconds() / 1e9
	if run.Bytes != want {
		return run, fmt.Errorf("read %d bytes, the partition holds %d", run.Bytes, want)
	}
	return run, nil
}

// nextOffset returns the offset after the last batch of records, walking
// the batches by their length fields (bytes 8 to 12 of a batch count the
// bytes after them).
func nextOffset(records []byte) (int64, error) {
	var last []byte
	for at := 0; at < len(records); {
		if len(records)-at < recordbatch.HeaderSize {
			return 0, fmt.Errorf("a partial batch of %d bytes at the end of a read", len(records)-at)
		}
		last = records[at:]
		at += 12 + int(binary.BigEndian.Uint32(records[at+8:]))
	}
	h, err := recordbatch.ReadHeader(last)
	if err != nil {
		return 0, err
	}
	return h.LastOffset() + 1, nil
}
