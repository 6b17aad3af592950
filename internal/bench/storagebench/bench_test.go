package storagebench

import (
	"context"
	"testing"
	"time"

	"github.com/weir-io/weir/internal/storage"
)

// The Go benchmarks run the same append runner and reader as `weir bench
// storage`, with b.N appends (or reads) instead of a duration:
//
//	go test -run '^$' -bench . -benchtime 20000x ./internal/bench/storagebench
//
// The data goes to b.TempDir(): set TMPDIR to a directory on the disk to
// measure.

func benchmarkAppend(b *testing.B, partitions int) {
	cfg := DefaultConfig()
	e, _, err := openEngine(engineOptions{dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	parts, err := createTopic(e, "bench", partitions, storage.DefaultTopicConfig())
	if err != nil {
		b.Fatal(err)
	}
	template, err := buildBatch(cfg.recordsPerBatch(), cfg.RecordSize, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(template)))
	b.ResetTimer()
	run, err := runAppends(context.Background(), appendParams{engine: e, partitions: parts, template: template,
		writers: cfg.Writers, inflight: cfg.Inflight, appends: int64(b.N)})
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(run.LatencyP50)/float64(time.Millisecond), "p50-ms")
	b.ReportMetric(float64(run.LatencyP99)/float64(time.Millisecond), "p99-ms")
	b.ReportMetric(run.FsyncsPerSec, "fsyncs/s")
}

// BenchmarkAppendDurable16 is append16: durable 16 KiB batches of 1 KiB
// records from 8 writers with 64 in flight each, over 16 partitions.
func BenchmarkAppendDurable16(b *testing.B) { benchmarkAppend(b, 16) }

// BenchmarkAppendDurable100k is append100k: the same over 100,000
// partitions.
func BenchmarkAppendDurable100k(b *testing.B) { benchmarkAppend(b, 100_000) }

// BenchmarkReadSequential reads a 256 MiB partition from a warm page cache;
// one op is one Partition.Read of 1 MiB, going back to the log start at the
// end.
func BenchmarkReadSequential(b *testing.B) {
	cfg := DefaultConfig()
	e, _, err := openEngine(engineOptions{dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	parts, err := createTopic(e, "bench", 1, storage.DefaultTopicConfig())
	if err != nil {
		b.Fatal(err)
	}
	template, err := buildBatch(cfg.recordsPerBatch(), cfg.RecordSize, 1)
	if err != nil {
		b.Fatal(err)
	}
	w, err := runAppends(context.Background(), appendParams{engine: e, partitions: parts, template: template,
		writers: cfg.Writers, inflight: cfg.Inflight, appends: (256 << 20) / int64(len(template))})
	if err != nil {
		b.Fatal(err)
	}
	p := parts[0]
	if _, err := readPartition(p, cfg.ReadMaxBytes, w.Bytes); err != nil {
		b.Fatal(err)
	}
	hw := p.Offsets().HighWatermark
	var offset, total int64
	b.ResetTimer()
	for range b.N {
		if offset >= hw {
			offset = 0
		}
		r, err := p.Read(offset, cfg.ReadMaxBytes)
		if err != nil {
			b.Fatal(err)
		}
		if offset, err = nextOffset(r.Records); err != nil {
			b.Fatal(err)
		}
		total += int64(len(r.Records))
		r.Release()
	}
	b.StopTimer()
	b.ReportMetric(float64(total)/b.Elapsed().Seconds()/1e9, "GB/s")
}
