package nexmark

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/weir-io/weir/flow"
)

// Benchmarks of two flow operators the queries lean on, in the test
// driver, over in-order input at one record a millisecond (so the
// watermark moves at every record), for a report to flow's authors: the
// cost per record should not depend on how many records came before. In
// flow as of this writing it grows with them, until the store's memtable
// is flushed: closing windows (FetchAll from the oldest time, at every
// watermark advance) and finding due timers (a range read from the
// oldest timer, after every firing) both iterate from the start of their
// keyspace, over the versions and tombstones of every window or timer
// written and deleted since.

// costInputs are the input lengths each benchmark runs.
var costInputs = []int{5_000, 10_000, 20_000}

// BenchmarkWindowClose counts 100 keys' records in tumbling windows of
// 1 s, final results.
func BenchmarkWindowClose(b *testing.B) {
	for _, n := range costInputs {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			pipeInOrder(b, n, func() *flow.Topology {
				top := flow.NewTopology()
				records := flow.Source(top, "in", flow.String(), flow.Bytes())
				flow.WindowedBy(records.GroupByKey(), flow.Tumbling(time.Second)).Count(flow.Named("counts"), flow.EmitFinal()).
					ToStream().To("out")
				return top
			})
		})
	}
}

// BenchmarkTimers sets, for each record, an event-time timer 1 s later
// for its key (one of 100), which fires and is deleted.
func BenchmarkTimers(b *testing.B) {
	for _, n := range costInputs {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			pipeInOrder(b, n, func() *flow.Topology {
				top := flow.NewTopology()
				records := flow.Source(top, "in", flow.String(), flow.Bytes())
				flow.Process(records, func() flow.Processor[string, []byte, string, []byte] { return timerEcho{} },
					flow.Named("timers"), flow.WithKeyCodec(flow.String()), flow.WithValueCodec(flow.Bytes())).To("out")
				return top
			})
		})
	}
}

// timerEcho sets a timer a second after each record and forwards the key
// when it fires.
type timerEcho struct{}

func (timerEcho) Process(ctx *flow.ProcessorContext[string, string, []byte], r flow.Record[string, []byte]) error {
	return ctx.SetTimer(flow.EventTime, r.Key, r.Time.Add(time.Second))
}

func (timerEcho) OnTimer(ctx *flow.ProcessorContext[string, string, []byte], t flow.Timer[string]) error {
	return ctx.Forward(flow.Record[string, []byte]{Key: t.Key, Value: []byte{}})
}

// pipeInOrder pipes n records, one a millisecond, keys cycling over 100,
// through a fresh topology of build, b.N times, and reports the time per
// record.
func pipeInOrder(b *testing.B, n int, build func() *flow.Topology) {
	keys := make([][]byte, 100)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key-%02d", i))
	}
	start := time.UnixMilli(1767225600000)
	for b.Loop() {
		d, err := flow.NewTestDriver(build(), flow.TestConfig{})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			if err := d.Pipe("in", keys[i%len(keys)], []byte{}, start.Add(time.Duration(i)*time.Millisecond)); err != nil {
				b.Fatal(err)
			}
		}
		d.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	b.ReportMetric(0, "ns/op")
}
