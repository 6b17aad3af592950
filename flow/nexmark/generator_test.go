package nexmark

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// sampleSize is the number of events the generator tests look at: enough
// for proportions and averages, quick to make.
const sampleSize = 50_000

// generate returns the events of config, failing t on error.
func generate(t testing.TB, config GeneratorConfig) []Event {
	t.Helper()
	events, err := Generate(config)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// sample is the default config with sampleSize events.
func sample() GeneratorConfig {
	config := DefaultGeneratorConfig()
	config.NumEvents = sampleSize
	return config
}

// kinds counts the events of each kind.
func kinds(events []Event) map[Kind]int {
	counts := map[Kind]int{}
	for _, e := range events {
		counts[e.Kind()]++
	}
	return counts
}

func TestProportions(t *testing.T) {
	for _, groupSize := range []int64{1, 7} {
		config := sample()
		config.OutOfOrderGroupSize = groupSize
		got := kinds(generate(t, config))
		want := map[Kind]int{KindPerson: sampleSize / 50, KindAuction: sampleSize * 3 / 50, KindBid: sampleSize * 46 / 50}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("out-of-order group size %d: kinds %v, want %v", groupSize, got, want)
		}
	}
}

func TestProportionsConfigurable(t *testing.T) {
	config := sample()
	config.NumEvents = 1000
	config.PersonProportion, config.AuctionProportion, config.BidProportion = 2, 2, 6
	got := kinds(generate(t, config))
	want := map[Kind]int{KindPerson: 200, KindAuction: 200, KindBid: 600}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kinds %v, want %v", got, want)
	}
}

// encodeAll returns the encoding of each event.
func encodeAll(events []Event) [][]byte {
	encoded := make([][]byte, len(events))
	for i, e := range events {
		encoded[i] = Encode(nil, e)
	}
	return encoded
}

func TestDeterministic(t *testing.T) {
	config := sample()
	config.NumEvents = 5000
	config.OutOfOrderGroupSize = 10
	first, second := generate(t, config), generate(t, config)
	if !reflect.DeepEqual(first, second) {
		t.Fatal("two generators of one config made different events")
	}
	config.Seed = 1
	other := generate(t, config)
	if reflect.DeepEqual(first, other) {
		t.Fatal("another seed made the same events")
	}
	if !reflect.DeepEqual(kinds(first), kinds(other)) {
		t.Fatal("another seed changed the kinds of the events")
	}
}

// TestEventIsPure checks that Event(n) is what the generator makes at n,
// whatever was made before, and that FirstEventTime and InterEventDelay
// only move times.
func TestEventIsPure(t *testing.T) {
	config := sample()
	config.NumEvents = 2000
	events := generate(t, config)
	g, err := NewGenerator(config)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{1999, 0, 57, 1000, 57} {
		if got := g.Event(n); !reflect.DeepEqual(got, events[n]) {
			t.Errorf("Event(%d) = %+v, want %+v", n, got, events[n])
		}
	}
}

func TestSplitMakesTheSameEvents(t *testing.T) {
	tests := []struct {
		name      string
		events    int64
		groupSize int64
		consumed  int // events taken from the generator before the split
		k         []int
	}{
		{"in order", 1000, 1, 0, []int{1, 2, 3, 7}},
		{"out of order", 1003, 10, 0, []int{2, 5}},
		{"group of 953", 2000, 953, 0, []int{3}},
		{"after some events", 1000, 4, 37, []int{3}},
		{"split of a split", 1000, 6, 11, []int{2, 3}},
		{"more parts than events", 5, 1, 0, []int{8}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			config := sample()
			config.NumEvents = test.events
			config.OutOfOrderGroupSize = test.groupSize
			g, err := NewGenerator(config)
			if err != nil {
				t.Fatal(err)
			}
			whole := *g
			var want [][]byte
			for e, ok := whole.Next(); ok; e, ok = whole.Next() {
				want = append(want, Encode(nil, e))
			}
			var got [][]byte
			for range test.consumed {
				e, _ := g.Next()
				got = append(got, Encode(nil, e))
			}
			parts := []*Generator{g}
			for _, k := range test.k {
				var next []*Generator
				for _, part := range parts {
					next = append(next, part.Split(k)...)
				}
				parts = next
			}
			for _, part := range parts {
				for e, ok := part.Next(); ok; e, ok = part.Next() {
					got = append(got, Encode(nil, e))
				}
			}
			slices.SortFunc(want, bytes.Compare)
			slices.SortFunc(got, bytes.Compare)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("splits made %d events, the generator %d, or they differ", len(got), len(want))
			}
		})
	}
}

// TestSplitsRunConcurrently runs the parts of a split on goroutines of
// their own, as a distributed run would, for the race detector.
func TestSplitsRunConcurrently(t *testing.T) {
	config := sample()
	config.NumEvents = 2000
	g, err := NewGenerator(config)
	if err != nil {
		t.Fatal(err)
	}
	parts := g.Split(2)
	made := make([][]Event, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Go(func() {
			for e, ok := part.Next(); ok; e, ok = part.Next() {
				made[i] = append(made[i], e)
			}
		})
	}
	wg.Wait()
	events := generate(t, config)
	for i, part := range made {
		for j, e := range part {
			if want := events[j*len(parts)+i]; !reflect.DeepEqual(e, want) {
				t.Fatalf("part %d's event %d is %+v, want %+v", i, j, e, want)
			}
		}
	}
}

// TestOutOfOrderIsAPermutation checks that every event number comes out
// once, whatever the group size, the last group short or not.
func TestOutOfOrderIsAPermutation(t *testing.T) {
	for _, test := range []struct{ events, groupSize int64 }{
		{100, 1}, {100, 10}, {95, 10}, {1000, 953}, {2000, 953}, {7, 100}, {1906, 953},
	} {
		config := sample()
		config.NumEvents, config.OutOfOrderGroupSize = test.events, test.groupSize
		g, err := NewGenerator(config)
		if err != nil {
			t.Fatal(err)
		}
		seen := make([]bool, test.events)
		inOrder := true
		for p := range test.events {
			n := g.eventNumber(p)
			if n < 0 || n >= test.events || seen[n] {
				t.Fatalf("%d events in groups of %d: position %d is event %d, out of range or repeated", test.events, test.groupSize, p, n)
			}
			if n/test.groupSize != p/test.groupSize {
				t.Fatalf("%d events in groups of %d: position %d is event %d, of another group", test.events, test.groupSize, p, n)
			}
			seen[n] = true
			inOrder = inOrder && n == p
		}
		if inOrder != (test.groupSize == 1 || test.events == 1) {
			t.Errorf("%d events in groups of %d: in order is %v", test.events, test.groupSize, inOrder)
		}
	}
}

// TestIDs checks that people and auctions are numbered in order, and that
// auctions and bids name recent people and auctions: at most the leads
// ahead of the newest, and among the active people and the auctions in
// flight.
func TestIDs(t *testing.T) {
	config := sample()
	events := generate(t, config)
	lastPerson, lastAuction := int64(FirstPersonID-1), int64(FirstAuctionID-1)
	checkPerson := func(what string, id int64) {
		if id < FirstPersonID || id > lastPerson+PersonIDLead || id <= lastPerson-config.NumActivePeople {
			t.Fatalf("%s %d: the newest person is %d", what, id, lastPerson)
		}
	}
	var bids, knownAuctions, knownBidders int
	for _, e := range events {
		switch e.Kind() {
		case KindPerson:
			if e.Person.ID != lastPerson+1 {
				t.Fatalf("person %d after person %d", e.Person.ID, lastPerson)
			}
			lastPerson = e.Person.ID
		case KindAuction:
			if e.Auction.ID != lastAuction+1 {
				t.Fatalf("auction %d after auction %d", e.Auction.ID, lastAuction)
			}
			lastAuction = e.Auction.ID
			checkPerson("seller", e.Auction.Seller)
		case KindBid:
			a := e.Bid.Auction
			if a < FirstAuctionID || a > lastAuction+AuctionIDLead || a < lastAuction-config.NumInFlightAuctions {
				t.Fatalf("bid for auction %d: the newest auction is %d", a, lastAuction)
			}
			checkPerson("bidder", e.Bid.Bidder)
			bids++
			if a <= lastAuction {
				knownAuctions++
			}
			if e.Bid.Bidder <= lastPerson {
				knownBidders++
			}
		}
	}
	// The leads make a few bids early; most name what exists.
	if knownAuctions < bids*95/100 || knownBidders < bids*95/100 {
		t.Errorf("of %d bids, %d name an existing auction and %d an existing bidder", bids, knownAuctions, knownBidders)
	}
}

// TestHotItems checks that about 1-1/ratio of bids go to the hot auction.
func TestHotItems(t *testing.T) {
	config := sample()
	var bids, hot int
	lastAuction := int64(0)
	for _, e := range generate(t, config) {
		switch e.Kind() {
		case KindAuction:
			lastAuction = e.Auction.ID
		case KindBid:
			bids++
			if e.Bid.Auction == (lastAuction-FirstAuctionID)/HotBatch*HotBatch+FirstAuctionID {
				hot++
			}
		}
	}
	// 1/2 by choice, plus a little by chance.
	if share := float64(hot) / float64(bids); share < 0.49 || share > 0.53 {
		t.Errorf("%.3f of bids for the hot auction, want about 0.5", share)
	}
}

func TestEventTime(t *testing.T) {
	for _, rate := range []int64{10_000, 3, 10_000_000} {
		config := sample()
		config.NumEvents = 5000
		config.InterEventDelay = DelayForRate(rate)
		g, err := NewGenerator(config)
		if err != nil {
			t.Fatal(err)
		}
		previous := config.FirstEventTime
		for n := int64(0); ; n++ {
			e, ok := g.Next()
			if !ok {
				break
			}
			want := config.FirstEventTime + n*int64(config.InterEventDelay)/int64(time.Millisecond)
			if e.Time() != want || e.Time() < previous {
				t.Fatalf("rate %d: event %d at %d after %d, want %d", rate, n, e.Time(), previous, want)
			}
			previous = e.Time()
		}
	}
}

func TestWatermark(t *testing.T) {
	config := sample()
	config.NumEvents = 3000
	config.OutOfOrderGroupSize = 100
	config.InterEventDelay = time.Millisecond
	g, err := NewGenerator(config)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range g.Split(3) {
		var times []int64
		var watermarks []int64
		for {
			watermarks = append(watermarks, part.Watermark())
			e, ok := part.Next()
			if !ok {
				break
			}
			times = append(times, e.Time())
		}
		if watermarks[len(watermarks)-1] != maxTime {
			t.Errorf("watermark of a finished generator %d, want the greatest time", watermarks[len(watermarks)-1])
		}
		var decreasing bool
		for i, w := range watermarks[:len(times)] {
			if i > 0 && w < watermarks[i-1] {
				t.Fatalf("watermark went back from %d to %d", watermarks[i-1], w)
			}
			if later := slices.Min(times[i:]); later < w {
				t.Fatalf("watermark %d after an event at %d is still to come", w, later)
			}
			decreasing = decreasing || i > 0 && times[i] < times[i-1]
		}
		if !decreasing {
			t.Error("events in groups of 100 came out in time order")
		}
	}
}

// TestSizes checks that events come out near their average sizes, counted
// as Beam does (8 bytes a number, plus the texts), and that auctions last
// about as long as it takes NumInFlightAuctions more auctions to open.
func TestSizes(t *testing.T) {
	config := sample()
	var sizes, counts [4]int64
	var length int64
	for _, e := range generate(t, config) {
		switch e.Kind() {
		case KindPerson:
			p := e.Person
			sizes[KindPerson] += int64(8 + len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State) + len(p.Extra))
		case KindAuction:
			a := e.Auction
			sizes[KindAuction] += int64(48 + len(a.ItemName) + len(a.Description) + len(a.Extra))
			length += a.Expires - a.DateTime
		case KindBid:
			sizes[KindBid] += int64(32 + len(e.Bid.Extra))
		}
		counts[e.Kind()]++
	}
	want := map[Kind]int64{KindPerson: config.AvgPersonSize, KindAuction: config.AvgAuctionSize, KindBid: config.AvgBidSize}
	for kind, average := range want {
		got := sizes[kind] / counts[kind]
		if got < average*95/100 || got > average*105/100 {
			t.Errorf("%v events average %d bytes, want about %d", kind, got, average)
		}
	}
	// 100 auctions take 100*50/3 events, 166.6 ms at 10,000 events a second.
	if average := length / counts[KindAuction]; average < 150 || average > 185 {
		t.Errorf("auctions last %d ms on average, want about 166", average)
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultGeneratorConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	tests := []struct {
		name   string
		change func(*GeneratorConfig)
	}{
		{"negative first id", func(c *GeneratorConfig) { c.FirstEventID = -1 }},
		{"negative count", func(c *GeneratorConfig) { c.NumEvents = -1 }},
		{"negative delay", func(c *GeneratorConfig) { c.InterEventDelay = -1 }},
		{"no people", func(c *GeneratorConfig) { c.PersonProportion = 0 }},
		{"no auctions", func(c *GeneratorConfig) { c.AuctionProportion = 0 }},
		{"no bids", func(c *GeneratorConfig) { c.BidProportion = 0 }},
		{"no active people", func(c *GeneratorConfig) { c.NumActivePeople = 0 }},
		{"no auctions in flight", func(c *GeneratorConfig) { c.NumInFlightAuctions = 0 }},
		{"hot auction ratio", func(c *GeneratorConfig) { c.HotAuctionRatio = 0 }},
		{"hot sellers ratio", func(c *GeneratorConfig) { c.HotSellersRatio = 0 }},
		{"hot bidders ratio", func(c *GeneratorConfig) { c.HotBiddersRatio = 0 }},
		{"negative size", func(c *GeneratorConfig) { c.AvgBidSize = -1 }},
		{"no group", func(c *GeneratorConfig) { c.OutOfOrderGroupSize = 0 }},
		{"huge proportions", func(c *GeneratorConfig) { c.BidProportion = 1 << 50 }},
	}
	for _, test := range tests {
		config := DefaultGeneratorConfig()
		test.change(&config)
		if _, err := NewGenerator(config); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: NewGenerator error %v, want ErrConfig", test.name, err)
		}
	}
	if _, err := Generate(DefaultGeneratorConfig()); !errors.Is(err, ErrConfig) {
		t.Errorf("Generate without end: error %v, want ErrConfig", err)
	}
}

func TestUnbounded(t *testing.T) {
	g, err := NewGenerator(DefaultGeneratorConfig())
	if err != nil {
		t.Fatal(err)
	}
	events := make([]Event, 1000)
	if n := g.Fill(events); n != len(events) {
		t.Fatalf("Fill of an unbounded generator made %d events, want %d", n, len(events))
	}
	// 10^15 events 100 µs apart: 10^14 ms, though 10^15 * 100,000 ns
	// overflows 64 bits.
	if got := g.Event(1e15).Time(); got != DefaultFirstEventTime+1e14 {
		t.Errorf("event 10^15 at %d, want %d", got, DefaultFirstEventTime+int64(1e14))
	}
}

func TestFillStopsAtTheEnd(t *testing.T) {
	config := sample()
	config.NumEvents = 10
	g, err := NewGenerator(config)
	if err != nil {
		t.Fatal(err)
	}
	events := make([]Event, 8)
	if n := g.Fill(events); n != 8 {
		t.Fatalf("first Fill made %d, want 8", n)
	}
	if n := g.Fill(events); n != 2 {
		t.Fatalf("second Fill made %d, want 2", n)
	}
	if _, ok := g.Next(); ok {
		t.Fatal("Next after the end made an event")
	}
}

func BenchmarkGenerator(b *testing.B) {
	g, err := NewGenerator(DefaultGeneratorConfig())
	if err != nil {
		b.Fatal(err)
	}
	events := make([]Event, 1000)
	b.ReportAllocs()
	for b.Loop() {
		g.Fill(events)
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
}
