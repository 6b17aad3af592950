package nexmark

import (
	"time"

	"github.com/weir-io/weir/flow"
	model "github.com/weir-io/weir/flow/nexmark"
)

// Config says where a query reads and writes, and how far event time may
// go back in its input.
type Config struct {
	// Input is the topic of events (values in flow/nexmark's encoding;
	// keys are not read).
	Input string
	// Output is the topic the query's rows go to.
	Output string
	// Grace is how long after a window's end (or an auction's expiry)
	// events for it are still taken, in event time. It must cover how
	// far the input goes back in time: with the generator's
	// OutOfOrderGroupSize n, (n-1) inter-event delays; with more than one
	// input partition, also how far apart the partitions' event times
	// drift. Events later than that are dropped, as late.
	Grace time.Duration
	// MergeGrace is the grace of the second stage of q5 and q7, which
	// merges the results of the windows the first stage closed. With one
	// input partition the first stage closes windows in order and 0 will
	// do; with several, the tasks of the partitions close a window at
	// different moments, and MergeGrace must cover how far apart in
	// event time they do.
	MergeGrace time.Duration
}

// BenchmarkConfig is the generator's configuration of the benchmarks: the
// defaults of Beam's and Flink's generator, with n events over span of
// event time. (Flink's published runs are 100,000,000 events over 10 s;
// the benchmarks here, of fewer events, take 30 s, so that every windowed
// query closes windows, and so writes rows, before the input ends: a
// streaming run has no end of input that would close the last windows; a
// batch run closes them all.)
func BenchmarkConfig(n int64, span time.Duration) model.GeneratorConfig {
	c := model.DefaultGeneratorConfig()
	c.NumEvents = n
	c.InterEventDelay = span / time.Duration(n)
	return c
}

// source reads the events of cfg.Input, each at its own event time (the
// DateTime of its person, auction or bid, whatever the record's
// timestamp).
func source(top *flow.Topology, cfg Config) flow.Stream[[]byte, *model.Event] {
	return flow.Source(top, cfg.Input, flow.Bytes(), EventCodec(), flow.Named("events"),
		flow.Timestamps(func(_ []byte, e *model.Event, _ time.Time) time.Time { return time.UnixMilli(e.Time()) }))
}

// bids keeps the bids of a stream of events.
func bids(events flow.Stream[[]byte, *model.Event]) flow.Stream[[]byte, *model.Event] {
	return events.Filter(func(_ []byte, e *model.Event) bool { return e.Bid != nil }, flow.Named("bids"))
}
