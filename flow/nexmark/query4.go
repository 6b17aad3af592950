package nexmark

import (
	"cmp"
	"slices"
)

// Q4Row is a row of query 4: the auctions of a category that found a
// buyer, and their selling prices.
type Q4Row struct {
	// Category is the auction category.
	Category int64 `json:"category"`
	// Auctions is the number of closed auctions with a winning bid.
	Auctions int64 `json:"auctions"`
	// TotalPrice is the sum of their winning prices, in cents.
	TotalPrice int64 `json:"totalPrice"`
	// AveragePrice is TotalPrice / Auctions, rounded toward zero, in cents.
	AveragePrice int64 `json:"averagePrice"`
}

// Q4 is query 4, average price for a category: for every category, the
// average winning price of its auctions closed under watermark, over all
// time. The winning bids are those of WinningBids (with Beam's reserve
// rule; Flink's SQL ignores the reserve). Beam averages over sliding
// windows of winning bids; Q4, like Flink, over everything. The average is
// an integer, as Flink's AVG of BIGINT; TotalPrice lets a float average
// be checked exactly.
//
// Rows are sorted by Category; a category without a sold auction has no
// row.
func Q4(events []Event, watermark int64) []Q4Row {
	categories := map[int64]*Q4Row{}
	for _, w := range WinningBids(events, watermark) {
		row := categories[w.Auction.Category]
		if row == nil {
			row = &Q4Row{Category: w.Auction.Category}
			categories[w.Auction.Category] = row
		}
		row.Auctions++
		row.TotalPrice += w.Bid.Price
	}
	rows := make([]Q4Row, 0, len(categories))
	for _, row := range categories {
		row.AveragePrice = row.TotalPrice / row.Auctions
		rows = append(rows, *row)
	}
	slices.SortFunc(rows, func(a, b Q4Row) int { return cmp.Compare(a.Category, b.Category) })
	return rows
}
