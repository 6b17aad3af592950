package nexmark

import (
	"reflect"
	"testing"
	"time"
)

// Small inputs whose answers are worked out by hand. Times are offsets from
// t0, which starts a 10 s window.
const t0 = DefaultFirstEventTime

func person(id int64, name, state string, at int64) Event {
	return Event{Person: &Person{ID: id, Name: name, City: "City of " + name, State: state, DateTime: t0 + at}}
}

func auction(id, seller, category, at, expires, reserve int64) Event {
	return Event{Auction: &Auction{ID: id, Seller: seller, Category: category, DateTime: t0 + at, Expires: t0 + expires, Reserve: reserve}}
}

func bid(auction, bidder, price, at int64) Event {
	return Event{Bid: &Bid{Auction: auction, Bidder: bidder, Price: price, DateTime: t0 + at}}
}

// check fails t if got is not want.
func check[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func TestQ0(t *testing.T) {
	events := []Event{bid(1, 2, 300, 20), person(5, "Kate", "OR", 0), bid(1, 3, 100, 10), bid(1, 2, 200, 10)}
	check(t, "Q0", Q0(events), []Bid{*events[3].Bid, *events[2].Bid, *events[0].Bid})
	check(t, "Q0 of nothing", Q0(nil), []Bid(nil))
}

func TestQ1(t *testing.T) {
	events := []Event{bid(1, 2, 1000, 0), bid(1, 2, 1, 1), bid(1, 2, 1234, 2), person(5, "Kate", "OR", 3)}
	want := []Bid{*events[0].Bid, *events[1].Bid, *events[2].Bid}
	want[0].Price = 908  // 1000 * 0.908
	want[1].Price = 0    // 0.908 rounds toward zero
	want[2].Price = 1120 // 1120.472
	check(t, "Q1", Q1(events), want)
	if events[0].Bid.Price != 1000 {
		t.Error("Q1 changed its input")
	}
}

func TestQ2(t *testing.T) {
	events := []Event{bid(246, 1, 7, 0), bid(124, 1, 8, 0), bid(123, 1, 9, 0), bid(123, 2, 5, 0), bid(0, 1, 1, 0), bid(-123, 1, 2, 0), bid(123, 3, 5, 1)}
	want := []Q2Row{{-123, 2}, {0, 1}, {123, 5}, {123, 5}, {123, 9}, {246, 7}}
	check(t, "Q2", Q2(events), want)
}

func TestQ3(t *testing.T) {
	events := []Event{
		auction(13, 3, 10, 0, 100, 0), // before its seller registers
		person(1, "Kate", "OR", 0),
		person(2, "Paul", "WA", 0), // not a state of the query
		person(3, "Luke", "CA", 5),
		person(4, "John", "ID", 5), // sells nothing
		auction(10, 1, 10, 10, 100, 0),
		auction(11, 2, 10, 10, 100, 0),  // seller in WA
		auction(12, 3, 11, 10, 100, 0),  // category 11
		auction(14, 99, 10, 10, 100, 0), // seller never registers
		auction(15, 1, 10, 99_000, 100_000, 0),
	}
	want := []Q3Row{
		{Name: "Kate", City: "City of Kate", State: "OR", Auction: 10},
		{Name: "Luke", City: "City of Luke", State: "CA", Auction: 13},
		{Name: "Kate", City: "City of Kate", State: "OR", Auction: 15},
	}
	check(t, "Q3", Q3(events), want)
}

// winningBidsInput has auctions closing at 100, 200, 400 and 1000 ms, the
// last event at 500 ms.
func winningBidsInput() []Event {
	return []Event{
		auction(1, 7, 10, 0, 100, 50),
		bid(1, 1, 40, 10),  // below the reserve
		bid(1, 2, 70, 20),  // wins
		bid(1, 3, 90, 100), // at the close: too late
		bid(1, 4, 60, 50),
		auction(2, 7, 10, 0, 200, 10),
		bid(2, 5, 31, 199),
		bid(2, 6, 31, 5), // as high and earlier: wins
		auction(3, 8, 11, 0, 1000, 10),
		bid(3, 1, 500, 10), // wins, once the auction closes
		auction(4, 8, 12, 0, 100, 1000),
		bid(4, 1, 999, 10), // below the reserve: no winner
		auction(5, 7, 11, 300, 400, 0),
		bid(5, 2, 100, 250), // before the auction opens
		bid(5, 3, 20, 300),  // wins
		bid(6, 1, 1000, 10), // no such auction
		person(9, "Kate", "OR", 500),
	}
}

func TestWinningBids(t *testing.T) {
	events := winningBidsInput()
	got := WinningBids(events, LastEventTime(events))
	want := []WinningBid{
		{*events[0].Auction, *events[2].Bid},
		{*events[5].Auction, *events[7].Bid},
		{*events[12].Auction, *events[14].Bid},
	}
	check(t, "WinningBids at the last event time", got, want)
	want = append(want[:2], WinningBid{*events[8].Auction, *events[9].Bid}, want[2])
	check(t, "WinningBids at the end of input", WinningBids(events, EndOfInput), want)
}

func TestQ4(t *testing.T) {
	events := winningBidsInput()
	// Category 10: 70 and 31, average 50.5 rounded toward zero; 11: 20.
	want := []Q4Row{{Category: 10, Auctions: 2, TotalPrice: 101, AveragePrice: 50}, {Category: 11, Auctions: 1, TotalPrice: 20, AveragePrice: 20}}
	check(t, "Q4 at the last event time", Q4(events, LastEventTime(events)), want)
	// Auction 3 closes too: category 11 has 20 and 500.
	want[1] = Q4Row{Category: 11, Auctions: 2, TotalPrice: 520, AveragePrice: 260}
	check(t, "Q4 at the end of input", Q4(events, EndOfInput), want)
	check(t, "Q4 of nothing", Q4(nil, EndOfInput), []Q4Row{})
}

func TestQ6(t *testing.T) {
	var events []Event
	// Seller 7 sells 12 auctions at 1 to 12 cents, in order of closing but
	// with ids going down: the last ten closed are 3 to 12.
	for price := int64(1); price <= 12; price++ {
		id := 100 - price
		events = append(events, auction(id, 7, 10, 0, 10*price, 0), bid(id, 1, price, 1))
	}
	// Seller 8 sells one at 5 cents and one that has not closed yet.
	events = append(events,
		auction(200, 8, 10, 0, 50, 0), bid(200, 1, 5, 1),
		auction(201, 8, 10, 0, 500, 0), bid(201, 1, 1000, 130))
	// The last event is at 130: seller 7's auctions have closed, at 10 to
	// 120 ms.
	want := []Q6Row{
		{Seller: 7, Auctions: 10, TotalPrice: 75, AveragePrice: 7},
		{Seller: 8, Auctions: 1, TotalPrice: 5, AveragePrice: 5},
	}
	check(t, "Q6 at the last event time", Q6(events, LastEventTime(events)), want)
	want[1] = Q6Row{Seller: 8, Auctions: 2, TotalPrice: 1005, AveragePrice: 502}
	check(t, "Q6 at the end of input", Q6(events, EndOfInput), want)
}

func TestQ5(t *testing.T) {
	events := []Event{
		bid(1, 1, 1, 0), bid(1, 1, 1, 1000),
		bid(2, 1, 1, 9000), bid(2, 1, 1, 9500), bid(2, 1, 1, 11_000),
		person(3, "Kate", "OR", 11_000),
	}
	// Windows start every 2 s, from 8 s before the first bid: the first
	// four see auction 1's two bids, the one at 0 both auctions' two, the
	// next four auction 2's three, the last auction 2's last.
	var want []Q5Row
	for start := int64(-8000); start < 0; start += 2000 {
		want = append(want, Q5Row{WindowStart: t0 + start, Auction: 1, Count: 2})
	}
	want = append(want, Q5Row{WindowStart: t0, Auction: 1, Count: 2}, Q5Row{WindowStart: t0, Auction: 2, Count: 2})
	// The last event, at 11 s, closes the windows that end by then.
	check(t, "Q5 at the last event time", Q5(events, LastEventTime(events)), want)
	for start := int64(2000); start <= 8000; start += 2000 {
		want = append(want, Q5Row{WindowStart: t0 + start, Auction: 2, Count: 3})
	}
	want = append(want, Q5Row{WindowStart: t0 + 10_000, Auction: 2, Count: 1})
	check(t, "Q5 at the end of input", Q5(events, EndOfInput), want)
}

func TestQ7(t *testing.T) {
	events := []Event{
		bid(1, 1, 5, 1000),
		bid(2, 2, 9, 2000),
		bid(3, 3, 9, 3000), // ties with the bid before
		bid(4, 4, 1, 10_000),
		bid(5, 5, 2, 19_999),
		bid(6, 6, 7, -1), // in the window before
	}
	want := []Q7Row{
		{WindowStart: t0 - 10_000, Bid: *events[5].Bid},
		{WindowStart: t0, Bid: *events[1].Bid},
		{WindowStart: t0, Bid: *events[2].Bid},
	}
	check(t, "Q7 at the last event time", Q7(events, LastEventTime(events)), want)
	want = append(want, Q7Row{WindowStart: t0 + 10_000, Bid: *events[4].Bid})
	check(t, "Q7 at the end of input", Q7(events, EndOfInput), want)
}

func TestQ8(t *testing.T) {
	events := []Event{
		person(1, "Kate", "OR", 1000),
		auction(10, 1, 10, 9999, 20_000, 0),
		auction(11, 1, 10, 5000, 20_000, 0), // a second: still one row
		person(2, "Paul", "WA", 9000),
		auction(12, 2, 10, 10_000, 20_000, 0), // the next window
		auction(13, 3, 10, 12_000, 20_000, 0), // before its seller registers
		person(3, "Luke", "CA", 15_000),
		auction(14, 4, 10, 1000, 20_000, 0), // seller never registers
	}
	want := []Q8Row{{ID: 1, Name: "Kate", WindowStart: t0}}
	check(t, "Q8 at the last event time", Q8(events, LastEventTime(events)), want)
	want = append(want, Q8Row{ID: 3, Name: "Luke", WindowStart: t0 + 10_000})
	check(t, "Q8 at the end of input", Q8(events, EndOfInput), want)
}

func TestLastEventTime(t *testing.T) {
	events := []Event{bid(1, 1, 1, 5), {}, person(1, "Kate", "OR", 3)}
	check(t, "LastEventTime", LastEventTime(events), t0+5)
	check(t, "LastEventTime of nothing", LastEventTime(nil), int64(-1<<63))
}

func TestWindowStart(t *testing.T) {
	for _, test := range []struct{ t, size, want int64 }{
		{0, 10, 0}, {9, 10, 0}, {10, 10, 10}, {-1, 10, -10}, {-10, 10, -10}, {-11, 10, -20},
	} {
		check(t, "windowStart", windowStart(test.t, test.size), test.want)
	}
}

// TestQueriesOverGeneratedEvents runs every query over generated events,
// checks that each finds something and that the answers do not depend on
// how the events were split among generators and interleaved.
func TestQueriesOverGeneratedEvents(t *testing.T) {
	config := sample()
	config.OutOfOrderGroupSize = 5
	config.InterEventDelay = time.Millisecond // 50 s: windows close
	events := generate(t, config)
	g, err := NewGenerator(config)
	if err != nil {
		t.Fatal(err)
	}
	// Round-robin over three parts: another order of the same events.
	parts := g.Split(3)
	var shuffled []Event
	for len(shuffled) < len(events) {
		for _, part := range parts {
			if e, ok := part.Next(); ok {
				shuffled = append(shuffled, e)
			}
		}
	}
	watermark := LastEventTime(events)
	answers := func(events []Event) map[string]any {
		return map[string]any{
			"q0": Q0(events), "q1": Q1(events), "q2": Q2(events), "q3": Q3(events),
			"q4": Q4(events, watermark), "q5": Q5(events, watermark), "q6": Q6(events, watermark),
			"q7": Q7(events, watermark), "q8": Q8(events, watermark),
		}
	}
	want := answers(events)
	for query, rows := range want {
		if reflect.ValueOf(rows).Len() == 0 {
			t.Errorf("%s found nothing in %d events", query, len(events))
		}
	}
	check(t, "answers over interleaved splits", answers(shuffled), want)
	if q0, q1 := want["q0"].([]Bid), want["q1"].([]Bid); len(q0) != sampleSize*46/50 || len(q1) != len(q0) {
		t.Errorf("q0 has %d rows and q1 %d, want %d", len(q0), len(q1), sampleSize*46/50)
	}
	for _, row := range want["q6"].([]Q6Row) {
		if row.Auctions < 1 || row.Auctions > Q6LastAuctions {
			t.Errorf("q6 averages seller %d over %d auctions", row.Seller, row.Auctions)
		}
	}
}

func BenchmarkReferenceQueries(b *testing.B) {
	config := DefaultGeneratorConfig()
	config.NumEvents = 100_000
	events := generate(b, config)
	for b.Loop() {
		Q3(events)
		Q4(events, EndOfInput)
		Q5(events, EndOfInput)
		Q7(events, EndOfInput)
		Q8(events, EndOfInput)
	}
}
