package main

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/weir-io/weir/flow"
)

func TestFraud(t *testing.T) {
	d, err := flow.NewTestDriver(Topology("payments", "alerts"), flow.TestConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := flow.Input(d, "payments", flow.String(), flow.JSON[Payment]())
	base := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	pay := func(cardID string, at time.Duration) {
		t.Helper()
		if err := in.Pipe(cardID, Payment{Cents: 500, Merchant: "m"}, base.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	s := time.Second
	// Card 1: four payments within a minute (one out of order): flagged.
	// Card 2: four payments, but spread over more than a minute.
	pay("card-1", 0)
	pay("card-2", 0)
	pay("card-1", 20*s)
	pay("card-2", 30*s)
	pay("card-1", 40*s)
	pay("card-1", 10*s)
	pay("card-2", 70*s)
	pay("card-2", 100*s)
	// Card 1 pays again 5 minutes later: still flagged, its silence
	// timer moves to 15 minutes after 09:05.
	pay("card-1", 5*time.Minute)
	// Card 3's payments move the watermark: at 09:14 card 1's timer has
	// not fired; at 09:16 it has.
	pay("card-3", 14*time.Minute)
	alerts := flow.Output(d, "alerts", flow.String(), flow.JSON[Alert]())
	read := func() []string {
		t.Helper()
		recs, err := alerts.Read()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			out = append(out, fmt.Sprintf("%s flagged=%v payments=%d since=%s at=%s", r.Key, r.Value.Flagged, r.Value.Payments,
				r.Value.Since.UTC().Format("15:04:05"), r.Timestamp.UTC().Format("15:04:05")))
		}
		return out
	}
	want := []string{"card-1 flagged=true payments=4 since=09:00:00 at=09:00:10"}
	if got := read(); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	pay("card-3", 16*time.Minute)
	want = []string{"card-1 flagged=false payments=1 since=09:05:00 at=09:15:00"}
	if got := read(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the silence: got %v, want %v", got, want)
	}
}
