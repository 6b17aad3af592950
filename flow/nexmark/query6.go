package nexmark

import (
	"cmp"
	"slices"
)

// Q6LastAuctions is how many of a seller's most recently closed auctions
// query 6 averages over.
const Q6LastAuctions = 10

// Q6Row is a row of query 6: a seller's last sold auctions and their
// prices.
type Q6Row struct {
	// Seller is the seller's person id.
	Seller int64 `json:"seller"`
	// Auctions is the number of auctions averaged over: at most
	// Q6LastAuctions.
	Auctions int64 `json:"auctions"`
	// TotalPrice is the sum of their winning prices, in cents.
	TotalPrice int64 `json:"totalPrice"`
	// AveragePrice is TotalPrice / Auctions, rounded toward zero, in cents.
	AveragePrice int64 `json:"averagePrice"`
}

// Q6 is query 6, average selling price by seller: for every seller, the
// average winning price of their last Q6LastAuctions auctions closed under
// watermark that found a buyer (WinningBids). "Last" is by closing time,
// Expires, then by auction id. Q6 gives each seller's final average, the
// last value of Beam's running one; Beam rounds it to the nearest cent,
// Q6 rounds toward zero like Q4. (Flink's suite skips query 6: its SQL
// cannot run it.)
//
// Rows are sorted by Seller.
func Q6(events []Event, watermark int64) []Q6Row {
	sales := map[int64][]WinningBid{}
	for _, w := range WinningBids(events, watermark) {
		sales[w.Auction.Seller] = append(sales[w.Auction.Seller], w)
	}
	rows := make([]Q6Row, 0, len(sales))
	for seller, sold := range sales {
		slices.SortFunc(sold, func(a, b WinningBid) int {
			return cmp.Or(cmp.Compare(a.Auction.Expires, b.Auction.Expires), cmp.Compare(a.Auction.ID, b.Auction.ID))
		})
		last := sold[max(len(sold)-Q6LastAuctions, 0):]
		row := Q6Row{Seller: seller, Auctions: int64(len(last))}
		for _, w := range last {
			row.TotalPrice += w.Bid.Price
		}
		row.AveragePrice = row.TotalPrice / row.Auctions
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b Q6Row) int { return cmp.Compare(a.Seller, b.Seller) })
	return rows
}
