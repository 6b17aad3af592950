package flow

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
)

// After every update of either table, the joined table (its updates
// applied in order) equals the join of the two tables as they are.
func TestTableJoins(t *testing.T) {
	for _, mode := range []joinMode{innerJoin, leftJoin, outerJoin} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			top := NewTopology()
			l := TableOf(top, "left", String(), String())
			r := TableOf(top, "right", String(), String())
			pair := func(_ string, v1 string, has1 bool, v2 string, has2 bool) string {
				if !has1 {
					v1 = "-"
				}
				if !has2 {
					v2 = "-"
				}
				return v1 + "+" + v2
			}
			var joined Table[string, string]
			switch mode {
			case innerJoin:
				joined = JoinTables(l, r, func(k, v1, v2 string) string { return pair(k, v1, true, v2, true) }, Named("j"))
			case leftJoin:
				joined = LeftJoinTables(l, r, func(k, v1, v2 string, found bool) string { return pair(k, v1, true, v2, found) }, Named("j"))
			default:
				joined = OuterJoinTables(l, r, pair, Named("j"))
			}
			joined.Codecs(String(), String()).To("out")
			d := newDriver(t, top, TestConfig{})
			out := Output(d, "out", String(), String())
			left, right, result := map[string]string{}, map[string]string{}, map[string]string{}
			rng := rand.New(rand.NewPCG(7, uint64(mode)))
			for i := range 400 {
				side, tab := "left", left
				if rng.IntN(2) == 0 {
					side, tab = "right", right
				}
				k := fmt.Sprint("k", rng.IntN(6))
				in := Input(d, side, String(), String())
				if rng.IntN(4) == 0 {
					delete(tab, k)
					if err := in.Delete(k, at(i)); err != nil {
						t.Fatal(err)
					}
				} else {
					tab[k] = fmt.Sprint(side[:1], i)
					if err := in.Pipe(k, tab[k], at(i)); err != nil {
						t.Fatal(err)
					}
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
				for _, k := range []string{"k0", "k1", "k2", "k3", "k4", "k5"} {
					v1, has1 := left[k]
					v2, has2 := right[k]
					if (mode == innerJoin && has1 && has2) || (mode == leftJoin && has1) || (mode == outerJoin && (has1 || has2)) {
						want[k] = pair(k, v1, has1, v2, has2)
					}
				}
				if !maps.Equal(result, want) {
					t.Fatalf("after update %d: joined %v, want %v", i, result, want)
				}
			}
		})
	}
}

// Aggregations and Materialize make tables that can be joined.
func TestJoinMaterialized(t *testing.T) {
	top := NewTopology()
	clicks := Source(top, "clicks", String(), String())
	counts := clicks.GroupByKey().Count(Named("clicks-per-user"))
	names := TableOf(top, "users", String(), String()).Filter(func(_, name string) bool { return name != "" }).
		Materialize(Named("named-users"))
	JoinTables(counts, names, func(_ string, n int64, name string) string { return fmt.Sprintf("%s:%d", name, n) }).
		Codecs(String(), String()).To("out")
	d := newDriver(t, top, TestConfig{})
	if err := Input(d, "users", String(), String()).Pipe("u1", "ann", at(0)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := Input(d, "clicks", String(), String()).Pipe("u1", "x", at(1)); err != nil {
			t.Fatal(err)
		}
	}
	got := fmt.Sprint(readKVs(t, Output(d, "out", String(), String())))
	if want := "[{u1 ann:1} {u1 ann:2}]"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
