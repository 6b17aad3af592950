package nexmark_test

import (
	"cmp"
	"fmt"
	"log"
	"slices"

	"github.com/weir-io/weir/flow/nexmark"
)

// Several generators share the work of one: each makes every third event,
// and together they make exactly its events, which a reference answer
// computed over Generate's events then checks.
func ExampleGenerator_Split() {
	config := nexmark.DefaultGeneratorConfig()
	config.NumEvents = 5000
	g, err := nexmark.NewGenerator(config)
	if err != nil {
		log.Fatal(err)
	}
	var topic [][]byte // stands for a Kafka topic
	for _, part := range g.Split(3) {
		for e, ok := part.Next(); ok; e, ok = part.Next() {
			topic = append(topic, nexmark.Encode(nil, e))
		}
	}

	// A stream processor reads the topic and answers query 2...
	var got []nexmark.Q2Row
	for _, value := range topic {
		e, err := nexmark.Decode(value)
		if err != nil {
			log.Fatal(err)
		}
		if e.Kind() == nexmark.KindBid && e.Bid.Auction%nexmark.Q2AuctionModulus == 0 {
			got = append(got, nexmark.Q2Row{Auction: e.Bid.Auction, Price: e.Bid.Price})
		}
	}
	// ...and its answer, in the canonical order, is checked.
	events, err := nexmark.Generate(config)
	if err != nil {
		log.Fatal(err)
	}
	want := nexmark.Q2(events)
	slices.SortFunc(got, func(a, b nexmark.Q2Row) int {
		return cmp.Or(cmp.Compare(a.Auction, b.Auction), cmp.Compare(a.Price, b.Price))
	})
	fmt.Println(len(topic), "events;", len(want), "rows of query 2; equal:", slices.Equal(got, want))
	// Output: 5000 events; 13 rows of query 2; equal: true
}

// The windowed queries take the watermark up to which the input counts as
// complete: EndOfInput closes every window, LastEventTime only those a
// stream-time engine has closed.
func ExampleQ7() {
	const t0 = nexmark.DefaultFirstEventTime
	events := []nexmark.Event{
		{Bid: &nexmark.Bid{Auction: 1000, Bidder: 1001, Price: 500, DateTime: t0 + 1000}},
		{Bid: &nexmark.Bid{Auction: 1001, Bidder: 1002, Price: 700, DateTime: t0 + 2000}},
		{Bid: &nexmark.Bid{Auction: 1000, Bidder: 1003, Price: 100, DateTime: t0 + 12_000}},
	}
	for _, watermark := range []int64{nexmark.LastEventTime(events), nexmark.EndOfInput} {
		for _, row := range nexmark.Q7(events, watermark) {
			fmt.Printf("window +%ds: auction %d at %d cents\n", (row.WindowStart-t0)/1000, row.Bid.Auction, row.Bid.Price)
		}
	}
	// Output:
	// window +0s: auction 1001 at 700 cents
	// window +0s: auction 1001 at 700 cents
	// window +10s: auction 1000 at 100 cents
}
