package nexmark

import (
	"github.com/weir-io/weir/flow"
	model "github.com/weir-io/weir/flow/nexmark"
)

// Q8 is query 8, monitor new users: the people who registered and opened
// an auction in the same tumbling window of 10 s, one row per person and
// window (as model.Q8).
//
// It is a windowed join of people and auctions on Person.ID ==
// Auction.Seller, written as a co-group: both are repartitioned by person
// id ("q8-by-person") and folded per person and window into what the
// window saw of the person ("q8-windows": registered, with their name;
// sold something), emitted once, when the watermark passes the window's
// end plus cfg.Grace. A window that saw both makes a row.
func Q8(cfg Config) *flow.Topology {
	top := flow.NewTopology()
	byPerson := flow.FlatMap(source(top, cfg), func(_ []byte, e *model.Event) []flow.KeyValue[int64, q8Seen] {
		switch {
		case e.Person != nil:
			return []flow.KeyValue[int64, q8Seen]{{Key: e.Person.ID, Value: q8Seen{Registered: true, Name: e.Person.Name}}}
		case e.Auction != nil:
			return []flow.KeyValue[int64, q8Seen]{{Key: e.Auction.Seller, Value: q8Seen{Sold: true}}}
		}
		return nil
	}, flow.Named("q8-key-by-person"), flow.WithKeyCodec(flow.Int64()), flow.WithValueCodec(q8SeenCodec()))
	windows := flow.Tumbling(model.Q8WindowSize).WithGrace(cfg.Grace)
	seen := flow.AggregateWindows(flow.WindowedBy(byPerson.GroupByKey(flow.Named("q8-by-person")), windows),
		func() q8Seen { return q8Seen{} },
		func(_ int64, s, window q8Seen) q8Seen { return window.merge(s) },
		flow.Named("q8-windows"), flow.EmitFinal(), flow.WithValueCodec(q8SeenCodec()))

	newSellers := seen.ToStream().Filter(func(_ flow.Windowed[int64], s q8Seen) bool { return s.Registered && s.Sold },
		flow.Named("q8-new-sellers"))
	flow.Map(newSellers, func(w flow.Windowed[int64], s q8Seen) ([]byte, model.Q8Row) {
		return nil, model.Q8Row{ID: w.Key, Name: s.Name, WindowStart: w.Window.Start.UnixMilli()}
	}, flow.Named("q8-rows"), flow.WithKeyCodec(flow.Bytes()), flow.WithValueCodec(Q8Codec())).To(cfg.Output, flow.Named("q8-sink"))
	return top
}

// q8Seen is what a window saw of a person: their registration (with their
// name), an auction they opened, or both.
type q8Seen struct {
	Registered, Sold bool
	Name             string
}

// merge adds what s saw.
func (w q8Seen) merge(s q8Seen) q8Seen {
	if s.Registered {
		w.Registered, w.Name = true, s.Name
	}
	w.Sold = w.Sold || s.Sold
	return w
}

// q8SeenCodec encodes a q8Seen: version 1, flags (a number: 1 registered,
// 2 sold), Name.
func q8SeenCodec() flow.Codec[q8Seen] {
	return rowCodec(func(w *writer, s q8Seen) {
		var flags int64
		if s.Registered {
			flags |= 1
		}
		if s.Sold {
			flags |= 2
		}
		w.number(flags)
		w.text(s.Name)
	}, func(r *reader) q8Seen {
		flags := r.number()
		return q8Seen{Registered: flags&1 != 0, Sold: flags&2 != 0, Name: r.text()}
	})
}
