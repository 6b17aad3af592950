package nexmark

import (
	"github.com/weir-io/weir/flow"
	model "github.com/weir-io/weir/flow/nexmark"
)

// Q4 is query 4, average price for a category: for every category, the
// average winning price of its auctions closed so far (as model.Q4). The
// output is a table keyed by category: each winning bid updates its
// category's row.
//
// The winning bids (winningBids) are repartitioned by category
// ("q4-winners-by-category") and added up per category ("q4-sums").
func Q4(cfg Config) *flow.Topology {
	top := flow.NewTopology()
	byCategory := flow.GroupBy(winningBids(top, cfg, "q4"), func(_ int64, w winningBid) int64 { return w.Category },
		flow.Named("q4-winners-by-category"), flow.WithKeyCodec(flow.Int64()), flow.WithValueCodec(winningBidCodec()))
	sums := flow.Aggregate(byCategory, func() q4Sum { return q4Sum{} }, func(_ int64, w winningBid, s q4Sum) q4Sum {
		return q4Sum{Auctions: s.Auctions + 1, TotalPrice: s.TotalPrice + w.Price}
	}, flow.Named("q4-sums"), flow.WithValueCodec(q4SumCodec()))
	flow.MapTableValues(sums, func(category int64, s q4Sum) model.Q4Row {
		return model.Q4Row{Category: category, Auctions: s.Auctions, TotalPrice: s.TotalPrice, AveragePrice: s.TotalPrice / s.Auctions}
	}, flow.Named("q4-rows"), flow.WithValueCodec(Q4Codec())).To(cfg.Output, flow.Named("q4-sink"))
	return top
}

// q4Sum is a category's sold auctions so far and the sum of their
// prices.
type q4Sum struct{ Auctions, TotalPrice int64 }

// q4SumCodec encodes a q4Sum: version 1, Auctions, TotalPrice.
func q4SumCodec() flow.Codec[q4Sum] {
	return rowCodec(func(w *writer, s q4Sum) {
		w.number(s.Auctions)
		w.number(s.TotalPrice)
	}, func(r *reader) q4Sum { return q4Sum{Auctions: r.number(), TotalPrice: r.number()} })
}
