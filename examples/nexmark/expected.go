package nexmark

import (
	"math"

	model "github.com/weir-io/weir/flow/nexmark"
)

// What a query's topology has written once it has processed a run of
// events from one input partition, by flow/nexmark's reference queries.
//
// The reference queries close a window [start, end) when end <= their
// watermark argument. In flow, a task closes a window when its watermark
// passes the window's end plus the grace, and with one input partition a
// task's watermark is the greatest time of the records that reached it:
// every event for the task that reads the input topic, only the
// repartitioned records for a task that reads a repartition topic (q5's
// first stage sees the bids, q8's the people and auctions). A closed
// window is emitted at its end minus a millisecond, which is what the
// next stage's watermark follows. So the windows a query has written
// follow from the times of its input, stage by stage (closeStage), and
// the reference's watermark is the end of the last one.
//
// With one partition per topic the stages see their records in order, so
// the simulation is exact; with several, tasks progress unevenly and the
// graces decide what is late (Config).

func expectQ0(events []model.Event, _ Config) []string { return format(model.Q0(events)) }
func expectQ1(events []model.Event, _ Config) []string { return format(model.Q1(events)) }
func expectQ2(events []model.Event, _ Config) []string { return format(model.Q2(events)) }

func expectQ3(events []model.Event, _ Config) []string { return format(model.Q3(events)) }

// expectQ4 and expectQ6: the winning-bids processor sees the auctions and
// bids, and closes an auction at its expiry plus the grace.
func expectQ4(events []model.Event, cfg Config) []string {
	return format(model.Q4(events, auctionsClosedBy(events, cfg)))
}

func expectQ6(events []model.Event, cfg Config) []string {
	return format(model.Q6(events, auctionsClosedBy(events, cfg)))
}

// auctionsClosedBy is the reference watermark of the winning-bids
// processor.
func auctionsClosedBy(events []model.Event, cfg Config) int64 {
	seen := latest(append(timesOf(events, model.KindAuction), timesOf(events, model.KindBid)...))
	if seen == math.MinInt64 {
		return seen
	}
	return seen - cfg.Grace.Milliseconds()
}

func expectQ5(events []model.Event, cfg Config) []string {
	bids := timesOf(events, model.KindBid)
	size, slide := model.Q5WindowSize.Milliseconds(), model.Q5WindowSlide.Milliseconds()
	grace, merge := cfg.Grace.Milliseconds(), cfg.MergeGrace.Milliseconds()
	panes := closeStage(bids, latest(bids), slide, slide, grace)
	windows := closeStage(panes, latest(panes), size, slide, merge)
	// The last stage's window of a window [s, s+10s) ends with it.
	hottest := closeStage(windows, latest(windows), slide, slide, merge)
	return format(model.Q5(events, endOf(hottest)))
}

func expectQ7(events []model.Event, cfg Config) []string {
	size := model.Q7WindowSize.Milliseconds()
	local := closeStage(timesOf(events, model.KindBid), model.LastEventTime(events), size, size, cfg.Grace.Milliseconds())
	highest := closeStage(local, latest(local), size, size, cfg.MergeGrace.Milliseconds())
	return format(model.Q7(events, endOf(highest)))
}

func expectQ8(events []model.Event, cfg Config) []string {
	seen := append(timesOf(events, model.KindPerson), timesOf(events, model.KindAuction)...)
	size := model.Q8WindowSize.Milliseconds()
	return format(model.Q8(events, endOf(closeStage(seen, latest(seen), size, size, cfg.Grace.Milliseconds()))))
}

// closeStage returns the times at which a windowed stage has emitted its
// closed windows, one per window holding a record: the stage's records
// are at times, its watermark is watermark, its windows of size start
// every slide and close grace after their end.
func closeStage(times []int64, watermark, size, slide, grace int64) []int64 {
	if watermark == math.MinInt64 {
		return nil
	}
	emitted := map[int64]bool{}
	for _, t := range times {
		for start := t - mod(t, slide); start > t-size; start -= slide {
			if start+size+grace <= watermark {
				emitted[start+size-1] = true
			}
		}
	}
	out := make([]int64, 0, len(emitted))
	for t := range emitted {
		out = append(out, t)
	}
	return out
}

// endOf is the reference watermark that closes the windows a last stage
// emitted at times: the end of the last one (math.MinInt64: none).
func endOf(times []int64) int64 {
	if len(times) == 0 {
		return math.MinInt64
	}
	return latest(times) + 1
}

// timesOf returns the event times of the events of one kind.
func timesOf(events []model.Event, kind model.Kind) []int64 {
	var times []int64
	for _, e := range events {
		if e.Kind() == kind {
			times = append(times, e.Time())
		}
	}
	return times
}

// latest is the greatest of times, math.MinInt64 if there are none.
func latest(times []int64) int64 {
	last := int64(math.MinInt64)
	for _, t := range times {
		last = max(last, t)
	}
	return last
}

// mod is a modulo b in [0, b).
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
