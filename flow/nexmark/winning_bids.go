package nexmark

import (
	"cmp"
	"slices"
)

// WinningBid is a closed auction and the bid that won it.
type WinningBid struct {
	// Auction is the auction, closed.
	Auction Auction `json:"auction"`
	// Bid is the bid that won it.
	Bid Bid `json:"bid"`
}

// WinningBids returns the auctions closed under watermark that found a
// buyer, with the winning bid: the core that queries 4 and 6 share, as in
// Beam's WinningBids.
//
// An auction is closed when Expires <= watermark (pass EndOfInput to close
// all, LastEventTime(events) to close those a stream-time engine has
// closed). The bids that count are those for the auction made while it was
// open, Auction.DateTime <= Bid.DateTime < Auction.Expires, at or above its
// reserve, Bid.Price >= Auction.Reserve. The winner is the highest of them;
// of equal prices the earliest, then the first by the order of compareBids
// (Beam: earliest). An auction no bid counts for is not in the result.
//
// Rows are sorted by Auction.ID, then Auction.Expires.
func WinningBids(events []Event, watermark int64) []WinningBid {
	bids := map[int64][]*Bid{}
	for _, e := range events {
		if e.Kind() == KindBid {
			bids[e.Bid.Auction] = append(bids[e.Bid.Auction], e.Bid)
		}
	}
	var rows []WinningBid
	for _, e := range events {
		if e.Kind() != KindAuction || !closed(e.Auction.Expires, watermark) {
			continue
		}
		a := e.Auction
		var best *Bid
		for _, b := range bids[a.ID] {
			if b.DateTime < a.DateTime || b.DateTime >= a.Expires || b.Price < a.Reserve {
				continue
			}
			if best == nil || b.Price > best.Price || b.Price == best.Price && compareBids(b, best) < 0 {
				best = b
			}
		}
		if best != nil {
			rows = append(rows, WinningBid{Auction: *a, Bid: *best})
		}
	}
	slices.SortFunc(rows, func(a, b WinningBid) int {
		return cmp.Or(cmp.Compare(a.Auction.ID, b.Auction.ID), cmp.Compare(a.Auction.Expires, b.Auction.Expires))
	})
	return rows
}
