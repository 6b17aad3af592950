package nexmark

import (
	"github.com/weir-io/weir/flow"
	model "github.com/weir-io/weir/flow/nexmark"
)

// The queries that look at one bid at a time: 0, 1 and 2. They run in the
// task of each input partition, without state or repartitioning.

// Q0 is query 0, pass-through: every bid, unchanged, to cfg.Output (as
// model.Q0). It measures what reading, decoding, encoding and writing
// events cost.
func Q0(cfg Config) *flow.Topology {
	top := flow.NewTopology()
	bids(source(top, cfg)).To(cfg.Output, flow.Named("q0-sink"))
	return top
}

// Q1 is query 1, currency conversion: every bid, its price converted to
// euro cents (as model.Q1: Price*908/1000, rounded toward zero).
//
// The conversion changes the bid in place: the source decodes a new event
// for each record, and nothing but this chain of operators sees it, as a
// Kafka Streams mapValues may change the object it is given when nothing
// else holds it. (A topology that branched the stream before the
// conversion would have to copy the bid instead.) It returns a pointer to
// the bid, which flow passes on without a new allocation.
func Q1(cfg Config) *flow.Topology {
	top := flow.NewTopology()
	flow.MapValues(bids(source(top, cfg)), func(_ []byte, e *model.Event) *model.Bid {
		e.Bid.Price = e.Bid.Price * model.Q1RateNumerator / model.Q1RateDenominator
		return e.Bid
	}, flow.Named("q1-euros"), flow.WithValueCodec(bidRefCodec())).To(cfg.Output, flow.Named("q1-sink"))
	return top
}

// Q2 is query 2, selection: the auction and price of every bid for an
// auction whose id is a multiple of 123 (as model.Q2).
func Q2(cfg Config) *flow.Topology {
	top := flow.NewTopology()
	selected := source(top, cfg).Filter(func(_ []byte, e *model.Event) bool {
		return e.Bid != nil && e.Bid.Auction%model.Q2AuctionModulus == 0
	}, flow.Named("q2-select"))
	flow.MapValues(selected, func(_ []byte, e *model.Event) model.Q2Row {
		return model.Q2Row{Auction: e.Bid.Auction, Price: e.Bid.Price}
	}, flow.Named("q2-project"), flow.WithValueCodec(Q2Codec())).To(cfg.Output, flow.Named("q2-sink"))
	return top
}
