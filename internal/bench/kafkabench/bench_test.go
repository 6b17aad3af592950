package kafkabench

import (
	"context"
	"testing"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/brokertest"
)

// The Go benchmarks run the workloads with b.N records against a broker
// in this process (so the broker's CPU is in the figures too):
//
//	go test -run '^$' -bench . -benchtime 100000x ./internal/bench/kafkabench

func benchConfig(b *testing.B) Config {
	br := brokertest.Start(b, broker.Config{})
	cfg := DefaultConfig()
	cfg.Brokers = []string{br.Addr().String()}
	cfg.Duration = 0
	cfg.Records = int64(b.N)
	return cfg
}

func report(b *testing.B, res *Result) {
	if res.Failed() {
		b.Fatalf("records failed or missing: %+v %+v", res.Produce, res.Consume)
	}
	if p := res.Produce; p != nil {
		b.SetBytes(int64(res.Config.RecordSize))
		b.ReportMetric(float64(p.Latency.P99.Microseconds())/1000, "p99-produce-ms")
	}
	if e := res.EndToEnd; e != nil {
		b.ReportMetric(float64(e.P99.Microseconds())/1000, "p99-e2e-ms")
	}
}

// BenchmarkProduce is the produce workload, acks=all, 1 KiB records.
func BenchmarkProduce(b *testing.B) {
	cfg := benchConfig(b)
	b.ResetTimer()
	res, err := RunProduce(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	report(b, res)
}

// BenchmarkEndToEnd is the e2e workload, acks=all, 1 KiB records, as
// fast as possible.
func BenchmarkEndToEnd(b *testing.B) {
	cfg := benchConfig(b)
	b.ResetTimer()
	res, err := RunE2E(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	report(b, res)
}
