package flow

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

func slidingTopology(final bool) *Topology {
	top := NewTopology()
	in := Source(top, "in", String(), String())
	opts := []Option{Named("per-10s")}
	if final {
		opts = append(opts, EmitFinal())
	}
	SlidingWindowedBy(in.GroupByKey(), Sliding(10*time.Second).WithGrace(5*time.Second)).
		Count(opts...).ToStream().To("out")
	return top
}

func TestSlidingWindows(t *testing.T) {
	d := newDriver(t, slidingTopology(false), TestConfig{})
	pipeAt(t, Input(d, "in", String(), String()), "a", 10, "a", 15, "a", 12 /* late-ish, within grace */, "a", 25, "a", 3 /* late */)
	got := windowedResults(t, d, "out")
	want := []string{
		"a@0-10=1",             // a at 10: its window [0, 10]
		"a@5-15=2",             // a at 15: [5, 15] holds 10 and 15
		"a@5-15=3", "a@2-12=2", // a at 12 joins [5, 15], its own [2, 12] holds 10 and 12
		"a@15-25=2", // a at 25: [15, 25] holds 15 and 25
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
	if d.tasks[0].late != 1 {
		t.Fatalf("%d late records, want 1", d.tasks[0].late)
	}
}

// Final results over random out-of-order input (within grace) equal a
// count over every record's window.
func TestSlidingWindowsRandom(t *testing.T) {
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 2))
		type in struct {
			key string
			ts  int
		}
		var inputs []in
		for i := range 300 {
			inputs = append(inputs, in{fmt.Sprint("k", rng.IntN(4)), i/5 + rng.IntN(5)})
		}
		wantSet := map[string]bool{}
		for _, r := range inputs {
			n := 0
			for _, o := range inputs {
				if o.key == r.key && o.ts >= r.ts-10 && o.ts <= r.ts {
					n++
				}
			}
			wantSet[fmt.Sprintf("%s@%d-%d=%d", r.key, r.ts-10, r.ts, n)] = true
		}
		var want []string
		for w := range wantSet {
			want = append(want, w)
		}
		slices.Sort(want)
		for _, final := range []bool{true, false} {
			d := newDriver(t, slidingTopology(final), TestConfig{})
			input := Input(d, "in", String(), String())
			for _, r := range inputs {
				if err := input.Pipe(r.key, "x", at(r.ts)); err != nil {
					t.Fatal(err)
				}
			}
			if err := input.Pipe("end", "x", at(10_000)); err != nil {
				t.Fatal(err)
			}
			// With updates, each window's last update is its result.
			last := map[string]string{}
			var order []string
			for _, r := range windowedResults(t, d, "out") {
				w := r[:slices.Index([]byte(r), '=')]
				if _, ok := last[w]; !ok {
					order = append(order, w)
				}
				if final && last[w] != "" {
					t.Fatalf("seed %d: window %s emitted twice with EmitFinal", seed, w)
				}
				last[w] = r
			}
			var got []string
			for _, w := range order {
				if w[:3] != "end" {
					got = append(got, last[w])
				}
			}
			slices.Sort(got)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, final %v:\ngot  %v\nwant %v", seed, final, got, want)
			}
		}
	}
}
