package nexmark

import (
	"github.com/weir-io/weir/flow"
	model "github.com/weir-io/weir/flow/nexmark"
)

// Q7 is query 7, highest bid: for every tumbling window of 10 s, the bids
// with the highest price in it, all of them when several tie (as
// model.Q7).
//
// It runs in two stages, so that the bids need not all cross one
// partition. The first keeps, in the task of each input partition, the
// highest bids of each window among that partition's bids ("q7-local":
// grouped by the input's keys, which needs no repartitioning and is right
// whatever the keys are, since the second stage merges), emitted once,
// when the watermark passes the window's end plus cfg.Grace. The second
// merges them per window under one key, in one partition
// ("q7-local-by-window", "q7-highest"); a window's merge closes when a
// later window's bids arrive (plus cfg.MergeGrace), and its rows are
// written then, once.
func Q7(cfg Config) *flow.Topology {
	top := flow.NewTopology()
	windows := flow.Tumbling(model.Q7WindowSize).WithGrace(cfg.Grace)
	local := flow.AggregateWindows(flow.WindowedBy(bids(source(top, cfg)).GroupByKey(), windows),
		func() q7Highest { return q7Highest{} },
		func(_ []byte, e *model.Event, h q7Highest) q7Highest { return h.add(e.Bid) },
		flow.Named("q7-local"), flow.EmitFinal(), flow.WithValueCodec(q7HighestCodec()))

	byWindow := flow.Map(local.ToStream(), func(w flow.Windowed[[]byte], h q7Highest) (int64, q7Highest) {
		h.WindowStart = w.Window.Start.UnixMilli()
		return 0, h
	}, flow.Named("q7-key-by-window"), flow.WithKeyCodec(flow.Int64()), flow.WithValueCodec(q7HighestCodec()))
	merge := flow.Tumbling(model.Q7WindowSize).WithGrace(cfg.MergeGrace)
	highest := flow.AggregateWindows(flow.WindowedBy(byWindow.GroupByKey(flow.Named("q7-local-by-window")), merge),
		func() q7Highest { return q7Highest{} },
		func(_ int64, partial, h q7Highest) q7Highest { return h.merge(partial) },
		flow.Named("q7-highest"), flow.EmitFinal(), flow.WithValueCodec(q7HighestCodec()))

	flow.FlatMap(highest.ToStream(), func(_ flow.Windowed[int64], h q7Highest) []flow.KeyValue[[]byte, model.Q7Row] {
		rows := make([]flow.KeyValue[[]byte, model.Q7Row], len(h.Bids))
		for i, b := range h.Bids {
			rows[i].Value = model.Q7Row{WindowStart: h.WindowStart, Bid: b}
		}
		return rows
	}, flow.Named("q7-rows"), flow.WithKeyCodec(flow.Bytes()), flow.WithValueCodec(Q7Codec())).To(cfg.Output, flow.Named("q7-sink"))
	return top
}

// q7Highest is the highest price of a window's bids so far and the bids
// at that price. WindowStart is set between the stages.
type q7Highest struct {
	WindowStart int64
	Bids        []model.Bid
}

// add adds a bid: it replaces the highest bids if its price is above
// theirs, joins them if equal.
func (h q7Highest) add(b *model.Bid) q7Highest {
	switch {
	case len(h.Bids) == 0 || b.Price > h.Bids[0].Price:
		h.Bids = []model.Bid{*b}
	case b.Price == h.Bids[0].Price:
		h.Bids = append(h.Bids, *b)
	}
	return h
}

// merge adds another part of the window's bids.
func (h q7Highest) merge(part q7Highest) q7Highest {
	h.WindowStart = part.WindowStart
	for i := range part.Bids {
		h = h.add(&part.Bids[i])
	}
	return h
}

// q7HighestCodec encodes a q7Highest: version 1, WindowStart, the number
// of bids, then each bid's length (a number) and the bid as an event.
func q7HighestCodec() flow.Codec[q7Highest] {
	return rowCodec(func(w *writer, h q7Highest) {
		w.number(h.WindowStart)
		w.number(int64(len(h.Bids)))
		for i := range h.Bids {
			event := encodeEvent(model.Event{Bid: &h.Bids[i]})
			w.number(int64(len(event)))
			w.b = append(w.b, event...)
		}
	}, func(r *reader) q7Highest {
		h := q7Highest{WindowStart: r.number()}
		n := r.count()
		h.Bids = make([]model.Bid, 0, n)
		for range n {
			h.Bids = append(h.Bids, r.bid())
		}
		return h
	})
}
