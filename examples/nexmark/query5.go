package nexmark

import (
	"github.com/weir-io/weir/flow"
	model "github.com/weir-io/weir/flow/nexmark"
)

// Q5 is query 5, hot items: for every window of 10 s starting every 2 s,
// the auctions with the most bids in it, all of them when several tie
// (as model.Q5).
//
// A bid falls in five windows; rather than counting it five times, the
// first stage counts each auction's bids per pane of 2 s (the windows'
// slide: every window is five panes), and the second adds up five panes'
// counts, as Flink slices hopping windows. So:
//
//   - bids are repartitioned by auction ("q5-bids-by-auction") and
//     counted per auction and pane ("q5-pane-counts"), each pane's counts
//     emitted once, when the watermark passes its end plus cfg.Grace;
//   - the panes' counts are repartitioned by auction again
//     ("q5-pane-counts-by-auction", as flow cannot tell that the keys
//     are the same) and added up per auction and window
//     ("q5-window-counts"), emitted when a window's last pane is in;
//   - the windows' counts go, under one key, to one partition
//     ("q5-window-counts-by-window"), where each window's greatest
//     count is found ("q5-hottest"); that window closes when the counts
//     of a later window arrive, and its rows are written then, once.
//
// The later stages close their windows cfg.MergeGrace after the next
// ones arrive.
func Q5(cfg Config) *flow.Topology {
	top := flow.NewTopology()
	slide := model.Q5WindowSlide
	byAuction := flow.Map(bids(source(top, cfg)), func(_ []byte, e *model.Event) (int64, struct{}) {
		return e.Bid.Auction, struct{}{}
	}, flow.Named("q5-key-by-auction"), flow.WithKeyCodec(flow.Int64()), flow.WithValueCodec(emptyCodec()))
	panes := flow.WindowedBy(byAuction.GroupByKey(flow.Named("q5-bids-by-auction")), flow.Tumbling(slide).WithGrace(cfg.Grace)).
		Count(flow.Named("q5-pane-counts"), flow.EmitFinal())

	// A pane [p, p+2s) is emitted at p+2s-1 ms, which is in the windows
	// that hold the pane, and no other.
	paneCounts := flow.Map(panes.ToStream(), func(w flow.Windowed[int64], n int64) (int64, int64) { return w.Key, n },
		flow.Named("q5-key-panes-by-auction"), flow.WithKeyCodec(flow.Int64()), flow.WithValueCodec(flow.Int64()))
	windows := flow.Hopping(model.Q5WindowSize, slide).WithGrace(cfg.MergeGrace)
	counts := flow.AggregateWindows(flow.WindowedBy(paneCounts.GroupByKey(flow.Named("q5-pane-counts-by-auction")), windows),
		func() int64 { return 0 }, func(_ int64, n, sum int64) int64 { return sum + n },
		flow.Named("q5-window-counts"), flow.EmitFinal(), flow.WithValueCodec(flow.Int64()))

	// A window [s, s+10s) is emitted at s+10s-1 ms, which falls in the
	// last stage's tumbling window [s+8s, s+10s): one per window.
	byWindow := flow.Map(counts.ToStream(), func(w flow.Windowed[int64], n int64) (int64, q5Count) {
		return 0, q5Count{WindowStart: w.Window.Start.UnixMilli(), Auction: w.Key, Count: n}
	}, flow.Named("q5-key-by-window"), flow.WithKeyCodec(flow.Int64()), flow.WithValueCodec(q5CountCodec()))
	hottest := flow.AggregateWindows(flow.WindowedBy(byWindow.GroupByKey(flow.Named("q5-window-counts-by-window")), flow.Tumbling(slide).WithGrace(cfg.MergeGrace)),
		func() q5Hottest { return q5Hottest{} }, addQ5Count,
		flow.Named("q5-hottest"), flow.EmitFinal(), flow.WithValueCodec(q5HottestCodec()))

	flow.FlatMap(hottest.ToStream(), func(_ flow.Windowed[int64], h q5Hottest) []flow.KeyValue[[]byte, model.Q5Row] {
		rows := make([]flow.KeyValue[[]byte, model.Q5Row], len(h.Auctions))
		for i, a := range h.Auctions {
			rows[i].Value = model.Q5Row{WindowStart: h.WindowStart, Auction: a, Count: h.Count}
		}
		return rows
	}, flow.Named("q5-rows"), flow.WithKeyCodec(flow.Bytes()), flow.WithValueCodec(Q5Codec())).To(cfg.Output, flow.Named("q5-sink"))
	return top
}

// q5Count is an auction's count of bids in a window.
type q5Count struct {
	WindowStart, Auction, Count int64
}

// q5Hottest is a window's greatest count of bids so far and the auctions
// that have it, in the order they came.
type q5Hottest struct {
	WindowStart, Count int64
	Auctions           []int64
}

// addQ5Count merges an auction's count into its window's hottest.
func addQ5Count(_ int64, c q5Count, h q5Hottest) q5Hottest {
	switch {
	case c.Count > h.Count:
		return q5Hottest{WindowStart: c.WindowStart, Count: c.Count, Auctions: []int64{c.Auction}}
	case c.Count == h.Count:
		h.Auctions = append(h.Auctions, c.Auction)
	}
	return h
}

// q5CountCodec encodes a q5Count: version 1, WindowStart, Auction, Count.
func q5CountCodec() flow.Codec[q5Count] {
	return rowCodec(func(w *writer, c q5Count) {
		w.number(c.WindowStart)
		w.number(c.Auction)
		w.number(c.Count)
	}, func(r *reader) q5Count {
		return q5Count{WindowStart: r.number(), Auction: r.number(), Count: r.number()}
	})
}

// q5HottestCodec encodes a q5Hottest: version 1, WindowStart, Count, the
// number of auctions and each auction.
func q5HottestCodec() flow.Codec[q5Hottest] {
	return rowCodec(func(w *writer, h q5Hottest) {
		w.number(h.WindowStart)
		w.number(h.Count)
		w.number(int64(len(h.Auctions)))
		for _, a := range h.Auctions {
			w.number(a)
		}
	}, func(r *reader) q5Hottest {
		h := q5Hottest{WindowStart: r.number(), Count: r.number()}
		n := r.count()
		h.Auctions = make([]int64, 0, n)
		for range n {
			h.Auctions = append(h.Auctions, r.number())
		}
		return h
	})
}

// emptyCodec encodes nothing: a value that carries no information, as
// zero bytes (not a null value).
func emptyCodec() flow.Codec[struct{}] {
	return flow.CodecFuncs[struct{}]{
		EncodeFunc: func(struct{}) ([]byte, error) { return []byte{}, nil },
		DecodeFunc: func([]byte) (struct{}, error) { return struct{}{}, nil },
	}
}
