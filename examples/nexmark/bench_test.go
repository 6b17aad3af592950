package nexmark

import (
	"flag"
	"sync"
	"testing"
	"time"

	"github.com/weir-io/weir/flow"
	model "github.com/weir-io/weir/flow/nexmark"
)

// The benchmarks' events: how many each iteration of BenchmarkDriver
// pipes through a query, over how much event time (BenchmarkConfig).
var (
	benchEvents = flag.Int64("nexmark.events", 1_000_000, "events per iteration of BenchmarkDriver")
	benchSpan   = flag.Duration("nexmark.span", 30*time.Second, "event time the events of BenchmarkDriver span")
)

// encodedEvents are the benchmarks' events, encoded once.
var encodedEvents = sync.OnceValues(func() ([][]byte, error) {
	g, err := model.NewGenerator(BenchmarkConfig(*benchEvents, *benchSpan))
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for e, ok := g.Next(); ok; e, ok = g.Next() {
		out = append(out, model.Encode(nil, e))
	}
	return out, nil
})

// BenchmarkDriver runs each query over the benchmark's events in the test
// driver: one goroutine, no broker, stores in memory. Each iteration is a
// fresh driver and every event; events/s is also events/s per core.
//
//	go test -run '^$' -bench Driver -benchtime 1x -count 3 ./examples/nexmark/
func BenchmarkDriver(b *testing.B) {
	events, err := encodedEvents()
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range Queries {
		b.Run(q.Name, func(b *testing.B) {
			cfg := Config{Input: "events", Output: "rows"}
			var rows int
			for b.Loop() {
				d, err := flow.NewTestDriver(q.Topology(cfg), flow.TestConfig{})
				if err != nil {
					b.Fatal(err)
				}
				for _, value := range events {
					// The record's timestamp is not read: the source
					// takes the event's own time.
					if err := d.Pipe(cfg.Input, nil, value, time.Time{}); err != nil {
						b.Fatal(err)
					}
				}
				rows = len(d.Records(cfg.Output))
				if err := d.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(0, "ns/op")
		})
	}
}
