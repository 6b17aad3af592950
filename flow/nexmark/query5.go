package nexmark

import (
	"cmp"
	"slices"
	"time"
)

// Query 5's hopping windows: 10 seconds long, starting every 2 seconds, as
// in Flink's Nexmark (HOP(..., INTERVAL '2' SECOND, INTERVAL '10' SECOND)).
// The original Nexmark used an hour every minute; Beam's default starts a
// window every 5 seconds.
const (
	// Q5WindowSize is the length of query 5's windows.
	Q5WindowSize = 10 * time.Second
	// Q5WindowSlide is the time between the starts of query 5's windows.
	Q5WindowSlide = 2 * time.Second
)

// Q5Row is a row of query 5: an auction with the most bids in a window.
type Q5Row struct {
	// WindowStart is the start of the window, in milliseconds since the
	// Unix epoch; it ends Q5WindowSize later, exclusively.
	WindowStart int64 `json:"windowStart"`
	// Auction is the id of the auction.
	Auction int64 `json:"auction"`
	// Count is the number of bids for Auction in the window.
	Count int64 `json:"num"`
}

// Q5 is query 5, hot items: for every window of Q5WindowSize starting at
// a multiple of Q5WindowSlide since the Unix epoch, closed under watermark
// (window start + Q5WindowSize <= watermark), the auctions with the most
// bids in it (bids with start <= DateTime < start+Q5WindowSize): all of
// them when several tie, as in Flink's SQL (num >= max) and Beam. Every
// bid is in Q5WindowSize/Q5WindowSlide = 5 windows. Windows without bids
// have no rows.
//
// Rows are sorted by WindowStart, then Auction.
func Q5(events []Event, watermark int64) []Q5Row {
	size, slide := Q5WindowSize.Milliseconds(), Q5WindowSlide.Milliseconds()
	type key struct{ start, auction int64 }
	counts := map[key]int64{}
	for _, e := range events {
		if e.Kind() != KindBid {
			continue
		}
		t := e.Bid.DateTime
		for start := windowStart(t, slide); start > t-size; start -= slide {
			if closed(start+size, watermark) {
				counts[key{start, e.Bid.Auction}]++
			}
		}
	}
	most := map[int64]int64{} // window start to its greatest count
	for k, n := range counts {
		most[k.start] = max(most[k.start], n)
	}
	var rows []Q5Row
	for k, n := range counts {
		if n == most[k.start] {
			rows = append(rows, Q5Row{WindowStart: k.start, Auction: k.auction, Count: n})
		}
	}
	slices.SortFunc(rows, func(a, b Q5Row) int {
		return cmp.Or(cmp.Compare(a.WindowStart, b.WindowStart), cmp.Compare(a.Auction, b.Auction))
	})
	return rows
}
