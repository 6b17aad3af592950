package nexmark

import (
	"cmp"
	"slices"
	"time"
)

// Q8WindowSize is the length of query 8's tumbling windows (the original
// Nexmark used 12 hours; Beam and Flink 10 seconds).
const Q8WindowSize = 10 * time.Second

// Q8Row is a row of query 8: a person who opened an auction in the window
// they registered in.
type Q8Row struct {
	// ID is the person's id.
	ID int64 `json:"id"`
	// Name is the person's name.
	Name string `json:"name"`
	// WindowStart is the start of the window, in milliseconds since the
	// Unix epoch.
	WindowStart int64 `json:"stime"`
}

// Q8 is query 8, monitor new users: the people who registered and opened
// at least one auction as seller within the same window of Q8WindowSize
// (aligned on multiples of it since the Unix epoch, half-open), closed
// under watermark. One row per person and window, however many auctions,
// as Flink's SQL groups the auctions by seller and window (Beam gives a row
// per auction, with its reserve).
//
// Rows are sorted by WindowStart, then ID, then Name.
func Q8(events []Event, watermark int64) []Q8Row {
	size := Q8WindowSize.Milliseconds()
	type key struct{ start, seller int64 }
	sold := map[key]bool{}
	for _, e := range events {
		if e.Kind() == KindAuction {
			start := windowStart(e.Auction.DateTime, size)
			sold[key{start, e.Auction.Seller}] = true
		}
	}
	seen := map[Q8Row]bool{}
	var rows []Q8Row
	for _, e := range events {
		if e.Kind() != KindPerson {
			continue
		}
		p := e.Person
		start := windowStart(p.DateTime, size)
		row := Q8Row{ID: p.ID, Name: p.Name, WindowStart: start}
		if closed(start+size, watermark) && sold[key{start, p.ID}] && !seen[row] {
			seen[row] = true
			rows = append(rows, row)
		}
	}
	slices.SortFunc(rows, func(a, b Q8Row) int {
		return cmp.Or(cmp.Compare(a.WindowStart, b.WindowStart), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name))
	})
	return rows
}
