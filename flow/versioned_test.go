package flow

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// A stream joined with a versioned table meets each key's value as of the
// record's time, whatever the order the table's updates came in.
func TestVersionedJoin(t *testing.T) {
	top := NewTopology()
	prices := TableOf(top, "prices", String(), Int64(), Versioned(time.Hour))
	orders := Source(top, "orders", String(), Int64())
	LeftJoinTable(orders, prices, func(item string, qty int64, price int64, found bool) string {
		if !found {
			return "no price"
		}
		return fmt.Sprint(qty * price)
	}, WithValueCodec(String())).To("totals")
	prices.ToStream().To("latest-prices")

	d := newDriver(t, top, TestConfig{})
	in := Input(d, "prices", String(), Int64())
	type version struct {
		ts    int
		price int64 // 0: deleted
	}
	rng := rand.New(rand.NewPCG(3, 3))
	history := map[string][]version{}
	var updates []KeyValue[string, version]
	for i := range 60 {
		item := fmt.Sprint("item", i%3)
		v := version{ts: rng.IntN(600), price: int64(1 + rng.IntN(100))}
		if rng.IntN(5) == 0 {
			v.price = 0
		}
		history[item] = append(history[item], v)
		updates = append(updates, KeyValue[string, version]{item, v})
	}
	for _, u := range updates {
		var err error
		if u.Value.price == 0 {
			err = in.Delete(u.Key, at(u.Value.ts))
		} else {
			err = in.Pipe(u.Key, u.Value.price, at(u.Value.ts))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	orderIn := Input(d, "orders", String(), Int64())
	for i := range 100 {
		item, ts := fmt.Sprint("item", rng.IntN(3)), rng.IntN(700)
		// The version valid at ts: the latest from at or before ts (the
		// last written, of two from the same time).
		best, price := -1, int64(0)
		for _, v := range history[item] {
			if v.ts <= ts && v.ts >= best {
				best, price = v.ts, v.price
			}
		}
		total := "no price"
		if price != 0 {
			total = fmt.Sprint(int64(i+1) * price)
		}
		want = append(want, item+"="+total)
		if err := orderIn.Pipe(item, int64(i+1), at(ts)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, kv := range readKVs(t, Output(d, "totals", String(), String())) {
		got = append(got, kv.Key+"="+kv.Value)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
	// The table's own updates: only those that changed its latest value
	// (an update older than the latest fills in history only).
	var latest []string
	newest := map[string]int{}
	for _, u := range updates {
		if n, ok := newest[u.Key]; ok && u.Value.ts < n {
			continue
		}
		newest[u.Key] = u.Value.ts
		if u.Value.price != 0 {
			latest = append(latest, fmt.Sprintf("%s=%d", u.Key, u.Value.price))
		}
	}
	var gotLatest []string
	for _, kv := range readKVs(t, Output(d, "latest-prices", String(), Int64())) {
		gotLatest = append(gotLatest, fmt.Sprintf("%s=%d", kv.Key, kv.Value))
	}
	if !slices.Equal(gotLatest, latest) {
		t.Fatalf("latest values: got %v\nwant %v", gotLatest, latest)
	}
}
