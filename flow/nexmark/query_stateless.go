package nexmark

import (
	"cmp"
	"slices"
)

// The queries that look at one bid at a time: 0, 1 and 2.

// Q0 is query 0, pass-through: every bid, unchanged. It measures the cost
// of reading and writing events. (Beam passes every event through; Flink,
// whose figures Weir compares with, passes the bids.)
//
// Rows are sorted by DateTime, then Auction, Bidder, Price, Channel, URL
// and Extra.
func Q0(events []Event) []Bid {
	var rows []Bid
	for _, e := range events {
		if e.Kind() == KindBid {
			rows = append(rows, *e.Bid)
		}
	}
	slices.SortFunc(rows, func(a, b Bid) int { return compareBids(&a, &b) })
	return rows
}

// Query 1 converts prices from dollars to euros at 0.908 euros to the
// dollar (Flink's rate; Beam's is 0.89).
const (
	// Q1RateNumerator is the numerator of query 1's rate.
	Q1RateNumerator = 908
	// Q1RateDenominator is the denominator of query 1's rate.
	Q1RateDenominator = 1000
)

// Q1 is query 1, currency conversion: every bid, with its price in euro
// cents, Price*Q1RateNumerator/Q1RateDenominator. Flink keeps the exact
// product as a decimal with three places; Q1 keeps whole cents, rounded
// toward zero (Go's integer division), so a stream processor can compute
// the same with integers.
//
// Rows are sorted as Q0's, comparing the converted prices.
func Q1(events []Event) []Bid {
	var rows []Bid
	for _, e := range events {
		if e.Kind() == KindBid {
			bid := *e.Bid
			bid.Price = bid.Price * Q1RateNumerator / Q1RateDenominator
			rows = append(rows, bid)
		}
	}
	slices.SortFunc(rows, func(a, b Bid) int { return compareBids(&a, &b) })
	return rows
}

// Q2AuctionModulus selects query 2's auctions: those whose id is a
// multiple of it.
const Q2AuctionModulus = 123

// Q2Row is a row of query 2.
type Q2Row struct {
	// Auction is the bid's auction.
	Auction int64 `json:"auction"`
	// Price is the bid's price, in cents.
	Price int64 `json:"price"`
}

// Q2 is query 2, selection: the auction and price of every bid for an
// auction whose id is a multiple of Q2AuctionModulus (Go's %, like SQL's
// MOD, is 0 for negative multiples too). The original Nexmark picked five
// fixed auctions; Beam and Flink take every 123rd so that the result grows
// with the input.
//
// Rows are sorted by Auction, then Price; equal rows repeat.
func Q2(events []Event) []Q2Row {
	var rows []Q2Row
	for _, e := range events {
		if e.Kind() == KindBid && e.Bid.Auction%Q2AuctionModulus == 0 {
			rows = append(rows, Q2Row{Auction: e.Bid.Auction, Price: e.Bid.Price})
		}
	}
	slices.SortFunc(rows, func(a, b Q2Row) int {
		return cmp.Or(cmp.Compare(a.Auction, b.Auction), cmp.Compare(a.Price, b.Price))
	})
	return rows
}
