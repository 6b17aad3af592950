package nexmark

import (
	"cmp"
	"slices"

	"github.com/weir-io/weir/flow"
	model "github.com/weir-io/weir/flow/nexmark"
)

// Q6 is query 6, average selling price by seller: for every seller, the
// average winning price of their last 10 auctions closed with a winner,
// last by expiry, then by auction id (as model.Q6). The output is a table
// keyed by seller: each winning bid updates its seller's row.
//
// The winning bids (winningBids) are repartitioned by seller
// ("q6-winners-by-seller"), and each seller's last 10 sales are kept
// ("q6-last-sales"), in order, whatever order they come in.
func Q6(cfg Config) *flow.Topology {
	top := flow.NewTopology()
	bySeller := flow.GroupBy(winningBids(top, cfg, "q6"), func(_ int64, w winningBid) int64 { return w.Seller },
		flow.Named("q6-winners-by-seller"), flow.WithKeyCodec(flow.Int64()), flow.WithValueCodec(winningBidCodec()))
	last := flow.Aggregate(bySeller, func() []q6Sale { return nil }, func(_ int64, w winningBid, sales []q6Sale) []q6Sale {
		return addQ6Sale(sales, q6Sale{Expires: w.Expires, Auction: w.Auction, Price: w.Price})
	}, flow.Named("q6-last-sales"), flow.WithValueCodec(q6SalesCodec()))
	flow.MapTableValues(last, func(seller int64, sales []q6Sale) model.Q6Row {
		row := model.Q6Row{Seller: seller, Auctions: int64(len(sales))}
		for _, s := range sales {
			row.TotalPrice += s.Price
		}
		row.AveragePrice = row.TotalPrice / row.Auctions
		return row
	}, flow.Named("q6-rows"), flow.WithValueCodec(Q6Codec())).To(cfg.Output, flow.Named("q6-sink"))
	return top
}

// q6Sale is a sold auction of a seller.
type q6Sale struct{ Expires, Auction, Price int64 }

// compareSales orders sales by expiry, then auction id.
func compareSales(a, b q6Sale) int {
	return cmp.Or(cmp.Compare(a.Expires, b.Expires), cmp.Compare(a.Auction, b.Auction))
}

// addQ6Sale adds a sale to a seller's last sales, in order, keeping the
// last model.Q6LastAuctions.
func addQ6Sale(sales []q6Sale, s q6Sale) []q6Sale {
	i, _ := slices.BinarySearchFunc(sales, s, compareSales)
	sales = slices.Insert(sales, i, s)
	return sales[max(len(sales)-model.Q6LastAuctions, 0):]
}

// q6SalesCodec encodes a seller's last sales: version 1, their number,
// and each one's Expires, Auction and Price.
func q6SalesCodec() flow.Codec[[]q6Sale] {
	return rowCodec(func(w *writer, sales []q6Sale) {
		w.number(int64(len(sales)))
		for _, s := range sales {
			w.number(s.Expires)
			w.number(s.Auction)
			w.number(s.Price)
		}
	}, func(r *reader) []q6Sale {
		sales := make([]q6Sale, r.count())
		for i := range sales {
			sales[i] = q6Sale{Expires: r.number(), Auction: r.number(), Price: r.number()}
		}
		return sales
	})
}
