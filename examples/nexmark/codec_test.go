package nexmark

import (
	"errors"
	"reflect"
	"testing"

	"github.com/weir-io/weir/flow"
	model "github.com/weir-io/weir/flow/nexmark"
)

// roundTrip checks that v survives its codec, that appending its
// encoding (CodecFuncs.AppendFunc) gives the same bytes, and that the codec refuses
// the encoding cut short, with a byte added, or without its version.
func roundTrip[T any](t *testing.T, name string, c flow.Codec[T], v T) {
	t.Helper()
	b, err := c.Encode(v)
	if err != nil {
		t.Fatalf("%s: encode: %v", name, err)
	}
	got, err := c.Decode(b)
	if err != nil {
		t.Fatalf("%s: decode: %v", name, err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Errorf("%s: decoded %+v, want %+v", name, got, v)
	}
	if f, ok := c.(flow.CodecFuncs[T]); ok && f.AppendFunc != nil {
		got, err := f.AppendFunc([]byte("prefix"), v)
		if err != nil || string(got) != "prefix"+string(b) {
			t.Errorf("%s: appended %x (%v), want the prefix and %x", name, got, err, b)
		}
	}
	for _, bad := range [][]byte{nil, b[:len(b)-1], append(append([]byte(nil), b...), 0), append([]byte{9}, b[1:]...)} {
		if _, err := c.Decode(bad); err == nil {
			t.Errorf("%s: decoded % x without an error", name, bad)
		}
	}
}

func TestCodecs(t *testing.T) {
	bid := model.Bid{Auction: 1001, Bidder: 2002, Price: 1234, Channel: "Google", URL: "https://x/y", DateTime: 1767225600123, Extra: "xyz"}
	roundTrip(t, "bid", BidCodec(), bid)
	roundTrip(t, "event", EventCodec(), &model.Event{Bid: &bid})
	roundTrip(t, "person event", EventCodec(), &model.Event{Person: &model.Person{ID: 1000, Name: "Kate Bloggs", City: "Boise"}})
	roundTrip(t, "bid by reference", bidRefCodec(), &bid)
	roundTrip(t, "q2", Q2Codec(), model.Q2Row{Auction: 1230, Price: 77})
	roundTrip(t, "q3", Q3Codec(), model.Q3Row{Name: "Kate Bloggs", City: "Boise", State: "ID", Auction: 1001})
	roundTrip(t, "q4", Q4Codec(), model.Q4Row{Category: 10, Auctions: 3, TotalPrice: 3003, AveragePrice: 1001})
	roundTrip(t, "q5", Q5Codec(), model.Q5Row{WindowStart: -2000, Auction: 1001, Count: 12})
	roundTrip(t, "q6", Q6Codec(), model.Q6Row{Seller: 1000, Auctions: 10, TotalPrice: 99, AveragePrice: 9})
	roundTrip(t, "q7", Q7Codec(), model.Q7Row{WindowStart: 1767225600000, Bid: bid})
	roundTrip(t, "q8", Q8Codec(), model.Q8Row{ID: 1000, Name: "Kate Bloggs", WindowStart: 1767225600000})
	roundTrip(t, "q5 count", q5CountCodec(), q5Count{WindowStart: 1, Auction: 2, Count: 3})
	roundTrip(t, "q5 hottest", q5HottestCodec(), q5Hottest{WindowStart: 1, Count: 2, Auctions: []int64{3, 4}})
	roundTrip(t, "q7 highest", q7HighestCodec(), q7Highest{WindowStart: 1, Bids: []model.Bid{bid, bid}})
	roundTrip(t, "q8 seen", q8SeenCodec(), q8Seen{Registered: true, Sold: true, Name: "Kate"})
	roundTrip(t, "auction or bid", auctionOrBidCodec(), auctionOrBid{IsAuction: true, Time: 1, Price: 2, Expires: 3, Seller: 4, Category: 5})
	roundTrip(t, "winning bid", winningBidCodec(), winningBid{Auction: 1, Seller: 2, Category: 3, Expires: 4, Price: 5})
	roundTrip(t, "auction state", auctionStateCodec(), auctionState{Known: false, Pending: []pendingBid{{Time: 1, Price: 2}}})
	roundTrip(t, "q4 sum", q4SumCodec(), q4Sum{Auctions: 2, TotalPrice: 3})
	roundTrip(t, "q6 sales", q6SalesCodec(), []q6Sale{{Expires: 1, Auction: 2, Price: 3}})

	if _, err := Q2Codec().Decode([]byte{RowVersion, 0x80}); !errors.Is(err, ErrRow) {
		t.Errorf("a truncated varint: %v, want ErrRow", err)
	}
	for _, e := range []*model.Event{nil, {}} {
		if _, err := EventCodec().Encode(e); !errors.Is(err, ErrRow) {
			t.Errorf("encoding the invalid event %+v: %v, want ErrRow", e, err)
		}
	}
}
