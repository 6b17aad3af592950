package nexmark

import (
	"time"

	"github.com/weir-io/weir/flow"
	model "github.com/weir-io/weir/flow/nexmark"
)

// winningBids is the stream of the auctions that closed with a winning
// bid, as model.WinningBids: what queries 4 and 6 share, named after
// prefix ("q4", "q6").
//
// Auctions and bids are repartitioned by auction id
// ("<prefix>-auctions-and-bids") to a processor ("<prefix>-winning-bids")
// that keeps, per auction in a store ("<prefix>-auctions"), the auction
// and its best bid so far: the highest made while it was open
// (Auction.DateTime <= Bid.DateTime < Auction.Expires) at or above its
// reserve. An event-time timer at Expires plus cfg.Grace closes the
// auction: its winning bid, if any, goes on and its state is deleted.
//
// A bid may come before its auction (the generator's bids name auctions a
// little ahead, and out-of-order input reorders them): it waits in the
// auction's state until the auction comes, or until no auction can come
// early enough for it to count (an auction, if the grace covers the
// input's disorder, comes at most cfg.Grace behind the watermark), when a
// timer drops it.
func winningBids(top *flow.Topology, cfg Config, prefix string) flow.Stream[int64, winningBid] {
	byAuction := flow.FlatMap(source(top, cfg), func(_ []byte, e *model.Event) []flow.KeyValue[int64, auctionOrBid] {
		switch {
		case e.Auction != nil:
			a := e.Auction
			return []flow.KeyValue[int64, auctionOrBid]{{Key: a.ID, Value: auctionOrBid{IsAuction: true,
				Time: a.DateTime, Price: a.Reserve, Expires: a.Expires, Seller: a.Seller, Category: a.Category}}}
		case e.Bid != nil:
			return []flow.KeyValue[int64, auctionOrBid]{{Key: e.Bid.Auction, Value: auctionOrBid{Time: e.Bid.DateTime, Price: e.Bid.Price}}}
		}
		return nil
	}, flow.Named(prefix+"-key-by-auction"), flow.WithKeyCodec(flow.Int64()), flow.WithValueCodec(auctionOrBidCodec()))

	auctions := flow.NewKeyValueStore(top, prefix+"-auctions", flow.Int64(), auctionStateCodec())
	grace := cfg.Grace.Milliseconds()
	return flow.Process(byAuction.Repartition(flow.Named(prefix+"-auctions-and-bids")),
		func() flow.Processor[int64, auctionOrBid, int64, winningBid] {
			return &winningBidsProcessor{auctions: auctions, grace: grace}
		},
		flow.Named(prefix+"-winning-bids"), flow.WithStores(auctions),
		flow.WithKeyCodec(flow.Int64()), flow.WithValueCodec(winningBidCodec()))
}

// auctionOrBid is what the winning bids are found from: an auction
// (IsAuction), with Price its reserve, or a bid for it, of which only the
// time and price matter.
type auctionOrBid struct {
	IsAuction                 bool
	Time, Price               int64
	Expires, Seller, Category int64 // auctions only
}

// winningBid is an auction that closed with a winning bid: what queries
// 4 and 6 need of it.
type winningBid struct {
	Auction, Seller, Category, Expires, Price int64
}

// auctionState is what the processor keeps of an auction: the auction
// once it has come (Known) and the best bid so far, or the bids that came
// before it.
type auctionState struct {
	Known                                        bool
	DateTime, Expires, Reserve, Seller, Category int64
	// HasBest says whether a bid counts yet; Best is the highest price.
	HasBest bool
	Best    int64
	// Pending are the bids that came before the auction (Known false).
	Pending []pendingBid
}

// pendingBid is a bid waiting for its auction.
type pendingBid struct{ Time, Price int64 }

// offer takes a bid into the auction's best, if it counts.
func (s *auctionState) offer(b pendingBid) {
	if b.Time < s.DateTime || b.Time >= s.Expires || b.Price < s.Reserve {
		return
	}
	if !s.HasBest || b.Price > s.Best {
		s.HasBest, s.Best = true, b.Price
	}
}

// winningBidsProcessor finds the winning bids, per task.
type winningBidsProcessor struct {
	auctions flow.KeyValueStore[int64, auctionState]
	grace    int64 // ms
}

type winningBidsContext = flow.ProcessorContext[int64, int64, winningBid]

func (p *winningBidsProcessor) Process(ctx *winningBidsContext, r flow.Record[int64, auctionOrBid]) error {
	auctions := p.auctions.In(ctx)
	s, _, err := auctions.Get(r.Key)
	if err != nil {
		return err
	}
	v := r.Value
	switch {
	case v.IsAuction:
		s.Known, s.DateTime, s.Expires, s.Reserve, s.Seller, s.Category = true, v.Time, v.Expires, v.Price, v.Seller, v.Category
		for _, b := range s.Pending {
			s.offer(b)
		}
		s.Pending = nil
		if err := ctx.SetTimer(flow.EventTime, r.Key, time.UnixMilli(s.Expires+p.grace)); err != nil {
			return err
		}
	case s.Known:
		best, hasBest := s.Best, s.HasBest
		s.offer(pendingBid{Time: v.Time, Price: v.Price})
		if s.Best == best && s.HasBest == hasBest {
			return nil // nothing changed
		}
	default:
		// The auction has not come (or has closed, and the bid is late).
		if v.Time < watermark(ctx)-p.grace {
			return nil // no auction can still come early enough for it
		}
		s.Pending = append(s.Pending, pendingBid{Time: v.Time, Price: v.Price})
		if err := ctx.SetTimer(flow.EventTime, r.Key, time.UnixMilli(v.Time+p.grace+1)); err != nil {
			return err
		}
	}
	return auctions.Put(r.Key, s)
}

// OnTimer closes an auction at its expiry plus the grace, or drops the
// bids waiting for an auction that can no longer come in time.
func (p *winningBidsProcessor) OnTimer(ctx *winningBidsContext, t flow.Timer[int64]) error {
	auctions := p.auctions.In(ctx)
	s, found, err := auctions.Get(t.Key)
	if err != nil || !found {
		return err
	}
	if s.Known {
		if t.Time.UnixMilli() < s.Expires+p.grace {
			return nil // a pending bid's timer, set before the auction came
		}
		if err := auctions.Delete(t.Key); err != nil {
			return err
		}
		if !s.HasBest {
			return nil
		}
		return ctx.Forward(flow.Record[int64, winningBid]{Key: t.Key, Value: winningBid{
			Auction: t.Key, Seller: s.Seller, Category: s.Category, Expires: s.Expires, Price: s.Best}})
	}
	keep := s.Pending[:0]
	for _, b := range s.Pending {
		if b.Time >= watermark(ctx)-p.grace {
			keep = append(keep, b)
		}
	}
	if len(keep) == 0 {
		return auctions.Delete(t.Key)
	}
	s.Pending = keep
	return auctions.Put(t.Key, s)
}

// watermark is a processor's watermark in Unix milliseconds (far in the
// past before any record).
func watermark(ctx *winningBidsContext) int64 {
	wm := ctx.Watermark()
	if wm.IsZero() {
		return -1 << 62
	}
	return wm.UnixMilli()
}

// auctionOrBidCodec encodes an auctionOrBid: version 1, then 1, Time,
// Price (the reserve), Expires, Seller, Category for an auction, 0, Time,
// Price for a bid.
func auctionOrBidCodec() flow.Codec[auctionOrBid] {
	return rowCodec(func(w *writer, v auctionOrBid) {
		if !v.IsAuction {
			w.number(0)
			w.number(v.Time)
			w.number(v.Price)
			return
		}
		w.number(1)
		w.number(v.Time)
		w.number(v.Price)
		w.number(v.Expires)
		w.number(v.Seller)
		w.number(v.Category)
	}, func(r *reader) auctionOrBid {
		v := auctionOrBid{IsAuction: r.number() == 1, Time: r.number(), Price: r.number()}
		if v.IsAuction {
			v.Expires, v.Seller, v.Category = r.number(), r.number(), r.number()
		}
		return v
	})
}

// winningBidCodec encodes a winningBid: version 1, Auction, Seller,
// Category, Expires, Price.
func winningBidCodec() flow.Codec[winningBid] {
	return rowCodec(func(w *writer, b winningBid) {
		w.number(b.Auction)
		w.number(b.Seller)
		w.number(b.Category)
		w.number(b.Expires)
		w.number(b.Price)
	}, func(r *reader) winningBid {
		return winningBid{Auction: r.number(), Seller: r.number(), Category: r.number(), Expires: r.number(), Price: r.number()}
	})
}

// auctionStateCodec encodes an auctionState: version 1, flags (1 known,
// 2 has a best bid), DateTime, Expires, Reserve, Seller, Category, Best,
// the number of pending bids, and each one's Time and Price.
func auctionStateCodec() flow.Codec[auctionState] {
	return rowCodec(func(w *writer, s auctionState) {
		var flags int64
		if s.Known {
			flags |= 1
		}
		if s.HasBest {
			flags |= 2
		}
		w.number(flags)
		for _, n := range []int64{s.DateTime, s.Expires, s.Reserve, s.Seller, s.Category, s.Best, int64(len(s.Pending))} {
			w.number(n)
		}
		for _, b := range s.Pending {
			w.number(b.Time)
			w.number(b.Price)
		}
	}, func(r *reader) auctionState {
		flags := r.number()
		s := auctionState{Known: flags&1 != 0, HasBest: flags&2 != 0,
			DateTime: r.number(), Expires: r.number(), Reserve: r.number(), Seller: r.number(), Category: r.number(), Best: r.number()}
		if n := r.count(); n > 0 {
			s.Pending = make([]pendingBid, n)
			for i := range s.Pending {
				s.Pending[i] = pendingBid{Time: r.number(), Price: r.number()}
			}
		}
		return s
	})
}
