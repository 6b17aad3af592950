package nexmark

import (
	"errors"
	"fmt"
	"time"
)

// Fixed parameters of the generator, as in Beam's and Flink's.
const (
	// FirstPersonID is the id of the first person. Ids start high so that
	// small runs still match the queries' constants.
	FirstPersonID = 1000
	// FirstAuctionID is the id of the first auction.
	FirstAuctionID = 1000
	// FirstCategoryID is the first auction category.
	FirstCategoryID = 10
	// NumCategories is the number of auction categories, few so that the
	// queries find matches in small runs.
	NumCategories = 5
	// PersonIDLead is how many not yet registered people a seller or bidder
	// may be: a random person is drawn from the active people and the next
	// PersonIDLead ids, so an auction or bid occasionally arrives before
	// the person it names.
	PersonIDLead = 10
	// AuctionIDLead is how many not yet opened auctions a bid may be for,
	// in the same way.
	AuctionIDLead = 10
	// HotBatch is the size of the batches of consecutive ids whose first
	// member is hot: a hot auction is the first of the batch of HotBatch
	// auctions holding the newest auction, a hot seller the first of such a
	// batch of people, and a hot bidder the second (so that hot sellers and
	// bidders differ).
	HotBatch = 100
)

// GeneratorConfig says what events a Generator makes. Its fields and
// defaults are those of Beam's and Flink's NexmarkConfiguration; start from
// DefaultGeneratorConfig and change what the run needs.
type GeneratorConfig struct {
	// Seed selects one of many equally valid event streams. Beam seeds
	// each event's random choices with its id alone, which is Seed 0 here
	// (though the streams differ: the random number generators do).
	Seed uint64 `json:"seed"`
	// FirstEventID is the id of event number 0. An event's id decides its
	// kind and the person and auction ids it holds; its number decides its
	// time.
	FirstEventID int64 `json:"firstEventId"`
	// NumEvents is how many events to generate; 0 is without end.
	NumEvents int64 `json:"numEvents"`
	// FirstEventTime is the time of event number 0, in milliseconds since
	// the Unix epoch.
	FirstEventTime int64 `json:"firstEventTime"`
	// InterEventDelay is the event-time distance between events n and
	// n+1: DelayForRate of the events per second. Event n happens at
	// FirstEventTime + n*InterEventDelay, in whole milliseconds rounded
	// down. It does not pace the generator, which runs as fast as it can.
	InterEventDelay time.Duration `json:"interEventDelay"`
	// PersonProportion is the share of people: of every cycle of
	// PersonProportion+AuctionProportion+BidProportion consecutive event
	// ids, the first PersonProportion are people (1 of 50 by default).
	PersonProportion int64 `json:"personProportion"`
	// AuctionProportion is the share of auctions: the next
	// AuctionProportion ids of each cycle (3 of 50 by default).
	AuctionProportion int64 `json:"auctionProportion"`
	// BidProportion is the share of bids: the rest of each cycle (46 of 50
	// by default).
	BidProportion int64 `json:"bidProportion"`
	// NumActivePeople is how many of the most recent people are drawn from
	// when a seller or bidder is chosen at random.
	NumActivePeople int64 `json:"numActivePeople"`
	// NumInFlightAuctions is how many of the most recent auctions are
	// drawn from when a bid's auction is chosen at random. It also sets
	// auction lengths: an auction lasts on average until NumInFlightAuctions
	// more auctions have opened.
	NumInFlightAuctions int64 `json:"numInFlightAuctions"`
	// HotAuctionRatio: a bid is for the hot auction with probability
	// 1 - 1/HotAuctionRatio, else for a random in-flight auction.
	HotAuctionRatio int64 `json:"hotAuctionRatio"`
	// HotSellersRatio: an auction is by the hot seller with probability
	// 1 - 1/HotSellersRatio, else by a random active person.
	HotSellersRatio int64 `json:"hotSellersRatio"`
	// HotBiddersRatio: a bid is by the hot bidder with probability
	// 1 - 1/HotBiddersRatio, else by a random active person.
	HotBiddersRatio int64 `json:"hotBiddersRatio"`
	// AvgPersonSize is the average size in bytes people are padded to with
	// their Extra field, counting 8 bytes per number and the length of each
	// text, as Beam does.
	AvgPersonSize int64 `json:"avgPersonByteSize"`
	// AvgAuctionSize is the average size of auctions, counted the same way.
	AvgAuctionSize int64 `json:"avgAuctionByteSize"`
	// AvgBidSize is the average size of bids, counted the same way.
	AvgBidSize int64 `json:"avgBidByteSize"`
	// OutOfOrderGroupSize makes event time go back and forth: each group
	// of this many consecutive event numbers comes out in a scrambled (but
	// fixed) order. 1 keeps the events in order.
	OutOfOrderGroupSize int64 `json:"outOfOrderGroupSize"`
}

// DefaultFirstEventTime is the default time of the first event:
// 2026-01-01T00:00:00Z, in milliseconds since the Unix epoch. Beam and
// Flink start at the wall-clock time instead; a fixed time makes runs
// repeatable.
const DefaultFirstEventTime = 1767225600000

// DefaultGeneratorConfig returns Beam's and Flink's default configuration:
// 10,000 events per second of event time, proportions 1:3:46, 1,000 active
// people, 100 auctions in flight, hot ratios 2 (auctions), 4 (sellers) and
// 4 (bidders), average sizes 200, 500 and 100 bytes, events in order,
// without end. Flink's published benchmark runs 100,000,000 events at
// 10,000,000 per second: set NumEvents and InterEventDelay (DelayForRate)
// for that.
func DefaultGeneratorConfig() GeneratorConfig {
	return GeneratorConfig{
		FirstEventTime:      DefaultFirstEventTime,
		InterEventDelay:     DelayForRate(10_000),
		PersonProportion:    1,
		AuctionProportion:   3,
		BidProportion:       46,
		NumActivePeople:     1000,
		NumInFlightAuctions: 100,
		HotAuctionRatio:     2,
		HotSellersRatio:     4,
		HotBiddersRatio:     4,
		AvgPersonSize:       200,
		AvgAuctionSize:      500,
		AvgBidSize:          100,
		OutOfOrderGroupSize: 1,
	}
}

// DelayForRate is the InterEventDelay of eventsPerSecond events per second
// of event time, to the nanosecond. It panics unless eventsPerSecond is
// positive.
func DelayForRate(eventsPerSecond int64) time.Duration {
	if eventsPerSecond <= 0 {
		panic(fmt.Sprintf("nexmark: DelayForRate(%d): rate must be positive", eventsPerSecond))
	}
	return time.Second / time.Duration(eventsPerSecond)
}

// ErrConfig reports a GeneratorConfig that Validate rejects.
var ErrConfig = errors.New("nexmark: invalid generator config")

// Validate reports, wrapping ErrConfig, the first field of c out of range.
func (c GeneratorConfig) Validate() error {
	checks := []struct {
		name  string
		value int64
		min   int64
	}{
		{"first event id", c.FirstEventID, 0},
		{"number of events", c.NumEvents, 0},
		{"inter-event delay", int64(c.InterEventDelay), 0},
		{"person proportion", c.PersonProportion, 1},
		{"auction proportion", c.AuctionProportion, 1},
		{"bid proportion", c.BidProportion, 1},
		{"number of active people", c.NumActivePeople, 1},
		{"number of in-flight auctions", c.NumInFlightAuctions, 1},
		{"hot auction ratio", c.HotAuctionRatio, 1},
		{"hot sellers ratio", c.HotSellersRatio, 1},
		{"hot bidders ratio", c.HotBiddersRatio, 1},
		{"average person size", c.AvgPersonSize, 0},
		{"average auction size", c.AvgAuctionSize, 0},
		{"average bid size", c.AvgBidSize, 0},
		{"out-of-order group size", c.OutOfOrderGroupSize, 1},
	}
	for _, check := range checks {
		if check.value < check.min {
			return fmt.Errorf("%w: %s is %d, below %d", ErrConfig, check.name, check.value, check.min)
		}
	}
	// Keep the id arithmetic clear of overflow.
	const limit = 1 << 40
	if c.PersonProportion+c.AuctionProportion+c.BidProportion > limit ||
		c.NumActivePeople > limit || c.NumInFlightAuctions > limit {
		return fmt.Errorf("%w: proportions, active people or in-flight auctions over %d", ErrConfig, int64(limit))
	}
	return nil
}

// totalProportion is the length of the cycle of event kinds.
func (c *GeneratorConfig) totalProportion() int64 {
	return c.PersonProportion + c.AuctionProportion + c.BidProportion
}
