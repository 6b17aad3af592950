package nexmark

import (
	"cmp"
	"slices"
)

// Q3Category is the auction category query 3 looks for.
const Q3Category = 10

// q3States are the states query 3 looks for.
var q3States = map[string]bool{"OR": true, "ID": true, "CA": true}

// Q3Row is a row of query 3: a seller and one of their auctions.
type Q3Row struct {
	// Name is the seller's name.
	Name string `json:"name"`
	// City is the seller's city.
	City string `json:"city"`
	// State is the seller's state.
	State string `json:"state"`
	// Auction is the id of the auction.
	Auction int64 `json:"id"`
}

// Q3 is query 3, local item suggestion: who sells in category Q3Category
// while living in Oregon, Idaho or California ("OR", "ID", "CA"), and
// which auctions. It is the inner join of auctions with Category ==
// Q3Category and people in those states on Auction.Seller == Person.ID,
// without windows, as Flink's SQL writes it: a stream processor must join
// incrementally, keeping both sides, since a person may register before or
// after (PersonIDLead) their auctions open. (Beam's version forgets a
// seller and the auctions waiting for them after a quiet spell; this one
// never forgets.) Every pair
// that matches is a row, whatever the order of the input.
//
// Rows are sorted by Auction, then Name, City and State.
func Q3(events []Event) []Q3Row {
	sellers := map[int64][]*Person{}
	for _, e := range events {
		if e.Kind() == KindPerson && q3States[e.Person.State] {
			sellers[e.Person.ID] = append(sellers[e.Person.ID], e.Person)
		}
	}
	var rows []Q3Row
	for _, e := range events {
		if e.Kind() != KindAuction || e.Auction.Category != Q3Category {
			continue
		}
		for _, p := range sellers[e.Auction.Seller] {
			rows = append(rows, Q3Row{Name: p.Name, City: p.City, State: p.State, Auction: e.Auction.ID})
		}
	}
	slices.SortFunc(rows, func(a, b Q3Row) int {
		return cmp.Or(
			cmp.Compare(a.Auction, b.Auction),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.City, b.City),
			cmp.Compare(a.State, b.State),
		)
	})
	return rows
}
