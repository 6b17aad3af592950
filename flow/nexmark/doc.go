// Package nexmark is the Nexmark benchmark for Weir's stream processing: the
// events of an online auction site, a generator of them, a compact binary
// encoding for carrying them in Kafka topics, and plain reference answers to
// the benchmark's queries 0 to 8, against which a stream processor's output
// over the same events is checked.
//
// Nexmark began as a benchmark for continuous queries (Tucker, Tufte,
// Papadimos and Maier, 2002). Apache Beam's Java SDK rewrote it, with a
// deterministic generator and a "model" of each query that computes the
// expected answer directly (sdks/java/testing/nexmark); the Flink Nexmark
// project (github.com/nexmark/nexmark) took Beam's generator, wrote the
// queries in Flink SQL and publishes throughput figures. This package
// follows their model, parameters and query definitions, written anew; where
// Beam and Flink differ, the query's documentation says which it follows and
// why.
//
// # The model
//
// An Event is a Person registering, an Auction opening or a Bid. Times are
// milliseconds since the Unix epoch and prices cents, as in Beam. People
// and auctions are numbered from FirstPersonID and FirstAuctionID; an
// auction names its seller, a bid its auction and bidder.
//
// # Generating events
//
// Events are numbered from 0. Event n has id FirstEventID+n, which decides
// what it is: ids come in cycles of 50 (PersonProportion, AuctionProportion
// and BidProportion, 1, 3 and 46, added up), the first of each cycle a
// person, the next three auctions, the rest bids. So the ids of the newest
// person and auction at any event follow from its id, and a seller, bidder
// or auction is drawn from the recent ones without remembering anything:
// a bid is for the hot auction (the first of the newest batch of HotBatch
// auctions) with probability 1-1/HotAuctionRatio, else for one of the
// NumInFlightAuctions newest or the AuctionIDLead next; sellers and bidders
// likewise come from the hot person or the NumActivePeople newest and the
// PersonIDLead next.
// Because of the leads an auction or bid now and then names a person or
// auction a little before it exists, as in Beam, so joins must wait for the
// other side. Event n happens at FirstEventTime + n×InterEventDelay; an
// auction lasts on average as long as it takes NumInFlightAuctions more
// auctions to open (166 ms at the default 10,000 events a second). Each
// event's random choices come from a source seeded with Seed and its id, so
// event n is a function of the configuration and n alone.
//
// A Generator makes the events in order, or scrambled within groups of
// OutOfOrderGroupSize, with Next or Fill; Generate makes all of a bounded
// configuration's. To share the work, Split deals a generator's events among
// several, which may run anywhere: the events they make are exactly those
// the one generator makes, so a reference answer computed over Generate's
// events checks a distributed run. Watermark is a lower bound on the time of
// a generator's events still to come. The package's examples show a split
// run checked against a reference answer.
//
// The defaults are Beam's and Flink's; Flink's published runs are
// 100,000,000 events at 10,000,000 a second of event time.
//
// This generator's streams are not Beam's or Flink's byte for byte: it draws
// from its own random number generator, and it fixes what Flink leaves to
// chance (Flink's current generator seeds its randomness from the clock and
// makes channel URLs afresh in each process, so its runs differ). Prices
// are drawn with floating-point arithmetic, so in principle a price could
// round differently on another processor architecture.
//
// # Encoding
//
// Encode and Decode turn an event into bytes and back: a version byte, the
// kind, the numbers as varints and the texts, documented in codec.go.
// DecodeRef is Decode for a program that keeps events behind pointers (in
// interfaces, as flow does): it allocates the event with its person,
// auction or bid. The structs also carry JSON tags with Flink's column
// names.
//
// # Reference queries
//
// Q0 to Q8 compute each query's answer over a complete input, in event
// time, with simple maps and loops, and return rows in a canonical sorted
// order so that a stream processor's output, once sorted the same way, can
// be compared with reflect.DeepEqual or slices.Equal. Their results do not
// depend on the order of the input.
//
// Queries that close something (the windows of 5, 7 and 8, the auctions of
// 4 and 6) take a watermark: the event time the input is complete up to.
// A window [start, end) or an auction expiring at end is closed, and
// reported, when end <= watermark. EndOfInput closes everything, as a
// bounded run ends in Flink or Beam; LastEventTime(events) closes what an
// engine that follows stream time (the greatest event time seen, as Kafka
// Streams) has closed after reading every event.
//
//	q0  pass-through: every bid (Q0)
//	q1  currency conversion: prices × 0.908 in whole euro cents (Q1)
//	q2  selection: bids for auctions whose id is a multiple of 123 (Q2)
//	q3  local item suggestion: sellers in OR, ID or CA of category-10 auctions (Q3)
//	q4  average winning price per category (Q4, over WinningBids)
//	q5  hot items: the most-bid auctions per 10 s window, sliding by 2 s (Q5)
//	q6  average winning price of each seller's last 10 sold auctions (Q6)
//	q7  highest bids per 10 s tumbling window (Q7)
//	q8  people who opened an auction in the 10 s window they registered in (Q8)
package nexmark
