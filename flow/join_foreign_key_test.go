package flow

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
)

// After every update of either table (and what it causes on the internal
// topics), the foreign-key join's result equals the join of the tables as
// they are.
func TestForeignKeyJoin(t *testing.T) {
	for _, left := range []bool{false, true} {
		t.Run(fmt.Sprintf("left=%v", left), func(t *testing.T) {
			top := NewTopology()
			orders := TableOf(top, "orders", String(), String())       // order -> "customer/item"
			customers := TableOf(top, "customers", String(), String()) // customer -> name
			customerOf := func(order string) string { return strings.Split(order, "/")[0] }
			var joined Table[string, string]
			if left {
				joined = LeftJoinForeignKey(orders, customers, customerOf, func(o, v, name string, found bool) string {
					if !found {
						name = "?"
					}
					return v + "@" + name
				}, Named("fk"), WithValueCodec(String()))
			} else {
				joined = JoinForeignKey(orders, customers, customerOf, func(o, v, name string) string { return v + "@" + name },
					Named("fk"), WithValueCodec(String()))
			}
			joined.To("out")
			d := newDriver(t, top, TestConfig{})
			out := Output(d, "out", String(), String())
			ordersNow, customersNow, result := map[string]string{}, map[string]string{}, map[string]string{}
			rng := rand.New(rand.NewPCG(11, 0))
			for i := range 500 {
				var err error
				if rng.IntN(2) == 0 {
					o := fmt.Sprint("o", rng.IntN(8))
					if rng.IntN(5) == 0 {
						delete(ordersNow, o)
						err = Input(d, "orders", String(), String()).Delete(o, at(i))
					} else {
						ordersNow[o] = fmt.Sprintf("c%d/item%d", rng.IntN(4), i)
						err = Input(d, "orders", String(), String()).Pipe(o, ordersNow[o], at(i))
					}
				} else {
					c := fmt.Sprint("c", rng.IntN(4))
					if rng.IntN(4) == 0 {
						delete(customersNow, c)
						err = Input(d, "customers", String(), String()).Delete(c, at(i))
					} else {
						customersNow[c] = fmt.Sprint("name", i)
						err = Input(d, "customers", String(), String()).Pipe(c, customersNow[c], at(i))
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				recs, err := out.Read()
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range recs {
					if r.Deleted {
						delete(result, r.Key)
					} else {
						result[r.Key] = r.Value
					}
				}
				want := map[string]string{}
				for o, v := range ordersNow {
					name, found := customersNow[customerOf(v)]
					switch {
					case found:
						want[o] = v + "@" + name
					case left:
						want[o] = v + "@?"
					}
				}
				if !maps.Equal(result, want) {
					t.Fatalf("after update %d: joined %v\nwant %v", i, result, want)
				}
			}
			if !strings.Contains(top.Describe(), "fk-subscription") {
				t.Fatalf("no subscription topic in\n%s", top.Describe())
			}
		})
	}
}

func TestForeignKeyInternalCodecs(t *testing.T) {
	s := subscription{unsubscribe: true, hash: 42, leftKey: []byte("k")}
	if got, err := decodeSubscription(encodeSubscription(s)); err != nil || fmt.Sprint(got) != fmt.Sprint(s) {
		t.Fatalf("subscription: %v, %v", got, err)
	}
	r := fkResponse{hash: 7, found: true, right: []byte("v")}
	if got, err := decodeResponse(encodeResponse(r)); err != nil || fmt.Sprint(got) != fmt.Sprint(r) {
		t.Fatalf("response: %v, %v", got, err)
	}
	for _, b := range [][]byte{nil, {1}, {0, 2, 0, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 9)} {
		if _, err := decodeSubscription(b); err == nil {
			t.Errorf("subscription %x decoded", b)
		}
	}
	for _, b := range [][]byte{nil, {1}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, make([]byte, 9)} {
		if _, err := decodeResponse(b); err == nil {
			t.Errorf("response %x decoded", b)
		}
	}
}
