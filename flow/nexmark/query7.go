package nexmark

import (
	"cmp"
	"slices"
	"time"
)

// Q7WindowSize is the length of query 7's tumbling windows (the original
// Nexmark used a minute; Beam and Flink 10 seconds).
const Q7WindowSize = 10 * time.Second

// Q7Row is a row of query 7: a bid with the highest price in its window.
type Q7Row struct {
	// WindowStart is the start of the window, in milliseconds since the
	// Unix epoch; it ends Q7WindowSize later, exclusively.
	WindowStart int64 `json:"windowStart"`
	// Bid is the bid, unchanged.
	Bid Bid `json:"bid"`
}

// Q7 is query 7, highest bid: for every window of Q7WindowSize starting at
// a multiple of it since the Unix epoch, closed under watermark, the bids
// with the highest price in it (all of them when several tie). Windows are
// half-open, start <= DateTime < start+Q7WindowSize, as in Beam; Flink's
// SQL joins the maximum back to the bids with an inclusive BETWEEN, so it
// also pairs a bid made exactly at a window's end with that window.
//
// Rows are sorted by WindowStart, then by Bid as in Q0.
func Q7(events []Event, watermark int64) []Q7Row {
	size := Q7WindowSize.Milliseconds()
	highest := map[int64][]*Bid{} // window start to its highest bids
	for _, e := range events {
		if e.Kind() != KindBid {
			continue
		}
		start := windowStart(e.Bid.DateTime, size)
		if !closed(start+size, watermark) {
			continue
		}
		switch best := highest[start]; {
		case len(best) == 0 || e.Bid.Price > best[0].Price:
			highest[start] = []*Bid{e.Bid}
		case e.Bid.Price == best[0].Price:
			highest[start] = append(best, e.Bid)
		}
	}
	var rows []Q7Row
	for start, bids := range highest {
		for _, b := range bids {
			rows = append(rows, Q7Row{WindowStart: start, Bid: *b})
		}
	}
	slices.SortFunc(rows, func(a, b Q7Row) int {
		return cmp.Or(cmp.Compare(a.WindowStart, b.WindowStart), compareBids(&a.Bid, &b.Bid))
	})
	return rows
}
