package nexmark

import (
	"github.com/weir-io/weir/flow"
	model "github.com/weir-io/weir/flow/nexmark"
)

// Q3 is query 3, local item suggestion: the auctions of category 10 whose
// sellers live in Oregon, Idaho or California, with the seller's name,
// city and state (as model.Q3): a join without windows, which keeps both
// sides for ever, so that a seller who registers after their auction
// opens still meets it.
//
// The auctions of the category, keyed by auction id, and the people of
// those states, keyed by person id, are made tables ("q3-auctions" and
// "q3-people", through repartition topics "q3-auctions-by-id" and
// "q3-people-by-id"), and
// joined by the foreign key Auction.Seller ("q3-join"). The output is
// that join's table, keyed by auction id; as auctions and people never
// change, each auction's row is written once.
func Q3(cfg Config) *flow.Topology {
	top := flow.NewTopology()
	events := source(top, cfg)

	auctions := flow.Map(events.Filter(func(_ []byte, e *model.Event) bool {
		return e.Auction != nil && e.Auction.Category == model.Q3Category
	}, flow.Named("q3-select-auctions")), func(_ []byte, e *model.Event) (int64, int64) {
		return e.Auction.ID, e.Auction.Seller
	}, flow.Named("q3-key-auctions"), flow.WithKeyCodec(flow.Int64()), flow.WithValueCodec(flow.Int64()))
	sellerOf := auctions.GroupByKey(flow.Named("q3-auctions-by-id")).Reduce(latestOf[int64], flow.Named("q3-auctions"))

	people := flow.Map(events.Filter(func(_ []byte, e *model.Event) bool {
		return e.Person != nil && q3States[e.Person.State]
	}, flow.Named("q3-select-people")), func(_ []byte, e *model.Event) (int64, model.Q3Row) {
		p := e.Person
		return p.ID, model.Q3Row{Name: p.Name, City: p.City, State: p.State}
	}, flow.Named("q3-key-people"), flow.WithKeyCodec(flow.Int64()), flow.WithValueCodec(Q3Codec()))
	sellers := people.GroupByKey(flow.Named("q3-people-by-id")).Reduce(latestOf[model.Q3Row], flow.Named("q3-people"))

	flow.JoinForeignKey(sellerOf, sellers, func(seller int64) int64 { return seller },
		func(auction, _ int64, p model.Q3Row) model.Q3Row {
			p.Auction = auction
			return p
		}, flow.Named("q3-join"), flow.WithValueCodec(Q3Codec())).To(cfg.Output, flow.Named("q3-sink"))
	return top
}

// q3States are the states of query 3's sellers.
var q3States = map[string]bool{"OR": true, "ID": true, "CA": true}

// latestOf keeps the latest value of a key (a Reduce that makes a table
// of a stream).
func latestOf[V any](_, v V) V { return v }
