package nexmark

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
)

// codecCases are events at the edges of the format: empty and long texts,
// negative and extreme numbers, bytes that are not UTF-8.
func codecCases() []Event {
	long := string(make([]byte, 300))
	return []Event{
		{Person: &Person{}},
		{Auction: &Auction{}},
		{Bid: &Bid{}},
		{Person: &Person{ID: math.MaxInt64, Name: "Kate Smith", EmailAddress: "a@b.com", CreditCard: "1234 5678 9012 3456",
			City: "Boise", State: "ID", DateTime: math.MinInt64, Extra: long}},
		{Auction: &Auction{ID: -1, ItemName: "x", Description: long, InitialBid: 1, Reserve: -2, DateTime: 3,
			Expires: math.MaxInt64, Seller: math.MinInt64, Category: 10, Extra: "\xff\xfe"}},
		{Bid: &Bid{Auction: 1000, Bidder: 1001, Price: 1 << 40, Channel: "Google", URL: "https://www.nexmark.com/a/b/c/item.htm?query=1",
			DateTime: 1767225600000, Extra: "é"}},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	config := sample()
	config.NumEvents = 2000
	events := append(codecCases(), generate(t, config)...)
	var buffer []byte
	for _, e := range events {
		buffer = Encode(buffer[:0], e)
		if buffer[0] != CodecVersion || Kind(buffer[1]) != e.Kind() {
			t.Fatalf("header % x for a %v", buffer[:2], e.Kind())
		}
		got, err := Decode(buffer)
		if err != nil {
			t.Fatalf("Decode(Encode(%+v)): %v", e, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("Decode(Encode(e)) = %+v, want %+v", got, e)
		}
	}
}

func TestEncodeAppends(t *testing.T) {
	e := codecCases()[5]
	prefix := []byte("prefix")
	b := Encode(prefix, e)
	if string(b[:len(prefix)]) != "prefix" {
		t.Fatalf("Encode overwrote its dst: %q", b[:len(prefix)])
	}
	if got, err := Decode(b[len(prefix):]); err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("Decode of the appended encoding: %+v, %v", got, err)
	}
}

func TestDecodeDoesNotShareMemory(t *testing.T) {
	b := Encode(nil, codecCases()[5])
	e, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'z'
	}
	if e.Bid.Channel != "Google" {
		t.Fatalf("changing the bytes changed the event: channel %q", e.Bid.Channel)
	}
}

// TestDecodeRef checks that DecodeRef gives Decode's event, behind a
// pointer, with two allocations (the event with its person, auction or
// bid, and the texts), and Decode's errors.
func TestDecodeRef(t *testing.T) {
	for _, e := range codecCases() {
		b := Encode(nil, e)
		got, err := DecodeRef(b)
		if err != nil {
			t.Fatalf("DecodeRef(Encode(%+v)): %v", e, err)
		}
		if !reflect.DeepEqual(*got, e) {
			t.Fatalf("DecodeRef(Encode(e)) = %+v, want %+v", *got, e)
		}
		if allocs := testing.AllocsPerRun(100, func() { got, _ = DecodeRef(b) }); allocs > 2 {
			t.Errorf("DecodeRef of a %v: %.0f allocations, want 2 at most", e.Kind(), allocs)
		}
	}
	if _, err := DecodeRef([]byte{CodecVersion, 4}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("DecodeRef of kind 4: error %v, want ErrCorrupt", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := Encode(nil, codecCases()[3])
	tests := []struct {
		name  string
		bytes []byte
		want  error
	}{
		{"empty", nil, ErrCorrupt},
		{"version only", []byte{CodecVersion}, ErrCorrupt},
		{"version 0", []byte{0, byte(KindBid)}, ErrVersion},
		{"version 2", append([]byte{2}, valid[1:]...), ErrVersion},
		{"kind 0", []byte{CodecVersion, 0}, ErrCorrupt},
		{"kind 4", []byte{CodecVersion, 4}, ErrCorrupt},
		{"no numbers", []byte{CodecVersion, byte(KindBid)}, ErrCorrupt},
		{"varint too long", append([]byte{CodecVersion, byte(KindBid)}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), ErrCorrupt},
		{"text longer than the event", []byte{CodecVersion, byte(KindBid), 0, 0, 0, 0, 0x7f, 0, 0}, ErrCorrupt},
		{"huge text length", []byte{CodecVersion, byte(KindBid), 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0}, ErrCorrupt},
		{"a byte too many", append(append([]byte{}, valid...), 'x'), ErrCorrupt},
	}
	for _, test := range tests {
		if _, err := Decode(test.bytes); !errors.Is(err, test.want) {
			t.Errorf("%s: error %v, want %v", test.name, err, test.want)
		}
	}
	for n := range len(valid) {
		if _, err := Decode(valid[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("first %d of %d bytes: error %v, want ErrCorrupt", n, len(valid), err)
		}
	}
}

func TestEncodeInvalidPanics(t *testing.T) {
	for _, e := range []Event{{}, {Person: &Person{}, Bid: &Bid{}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Encode(%+v) did not panic", e)
				}
			}()
			Encode(nil, e)
		}()
	}
}

func TestJSON(t *testing.T) {
	for _, e := range codecCases()[:4] {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var got Event
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("JSON round trip of %s gave %+v", b, got)
		}
	}
	b, err := json.Marshal(Event{Bid: &Bid{Auction: 1, URL: "u"}})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"bid":{"auction":1,"bidder":0,"price":0,"channel":"","url":"u","dateTime":0,"extra":""}}`
	if string(b) != want {
		t.Errorf("JSON of a bid %s, want %s", b, want)
	}
}

// FuzzDecode checks that Decode never panics, and that what it accepts
// encodes to bytes that decode to the same event.
func FuzzDecode(f *testing.F) {
	for _, e := range codecCases() {
		f.Add(Encode(nil, e))
	}
	f.Add([]byte{})
	f.Add([]byte{CodecVersion, byte(KindAuction), 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v is neither ErrCorrupt nor ErrVersion", err)
			}
			return
		}
		again, err := Decode(Encode(nil, e))
		if err != nil {
			t.Fatalf("re-encoding of an accepted event: %v", err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("re-encoding changed %+v to %+v", e, again)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	events := benchmarkEvents(b)
	var buffer []byte
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buffer = Encode(buffer[:0], events[i%len(events)])
	}
}

func BenchmarkDecode(b *testing.B) {
	encoded := encodeAll(benchmarkEvents(b))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Decode(encoded[i%len(encoded)]); err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkEvents is a sample of the default mix of events.
func benchmarkEvents(b *testing.B) []Event {
	config := DefaultGeneratorConfig()
	config.NumEvents = 5000
	return generate(b, config)
}
