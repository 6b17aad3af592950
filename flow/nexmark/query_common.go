package nexmark

import "cmp"

// What the reference queries share: how the end of the input closes
// windows and auctions, windows, and the canonical order of bids.

// EndOfInput is the watermark that closes every window and every auction:
// what a bounded run reaches when its input ends, as in Flink and Beam.
const EndOfInput int64 = maxTime

// LastEventTime is the greatest event time in events, or the least int64
// if there are none. As the watermark of the windowed queries, it closes
// what a stream-time engine (Kafka Streams: stream time is the greatest
// event time seen) has closed once it has read all of events.
func LastEventTime(events []Event) int64 {
	last := int64(-1 << 63)
	for _, e := range events {
		if e.Kind() != KindInvalid {
			last = max(last, e.Time())
		}
	}
	return last
}

// windowStart is the start of the window of length size (aligned on
// multiples of size since the Unix epoch) that holds time t.
// REQUIRES: size > 0.
func windowStart(t, size int64) int64 {
	start := t - t%size
	if t%size < 0 {
		start -= size
	}
	return start
}

// closed reports whether something that ends (exclusively) at end is
// decided under watermark: no event still to come can fall before end.
func closed(end, watermark int64) bool {
	return end <= watermark
}

// compareBids orders bids by time, then by every other field, so that
// equal bids, and only they, compare 0.
func compareBids(a, b *Bid) int {
	return cmp.Or(
		cmp.Compare(a.DateTime, b.DateTime),
		cmp.Compare(a.Auction, b.Auction),
		cmp.Compare(a.Bidder, b.Bidder),
		cmp.Compare(a.Price, b.Price),
		cmp.Compare(a.Channel, b.Channel),
		cmp.Compare(a.URL, b.URL),
		cmp.Compare(a.Extra, b.Extra),
	)
}
