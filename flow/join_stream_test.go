package flow

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// joinTopology joins "left" and "right" by mode, writing "k:l+r" (with
// "-" for a missing side) to "out".
func joinTopology(mode joinMode, w JoinWindows) *Topology {
	top := NewTopology()
	l := Source(top, "left", String(), String())
	r := Source(top, "right", String(), String())
	pair := func(k, v1 string, has1 bool, v2 string, has2 bool) string {
		if !has1 {
			v1 = "-"
		}
		if !has2 {
			v2 = "-"
		}
		return v1 + "+" + v2
	}
	var out Stream[string, string]
	switch mode {
	case innerJoin:
		out = Join(l, r, w, func(k, v1, v2 string) string { return pair(k, v1, true, v2, true) }, Named("j"))
	case leftJoin:
		out = LeftJoin(l, r, w, func(k, v1, v2 string, found bool) string { return pair(k, v1, true, v2, found) }, Named("j"))
	default:
		out = OuterJoin(l, r, w, pair, Named("j"))
	}
	out.Codecs(String(), String()).To("out")
	return top
}

func TestStreamJoin(t *testing.T) {
	w := JoinWithin(10 * time.Second).WithGrace(5 * time.Second)
	// Records: side, key, value, time (s). b's left record at 0 joins
	// nothing; a's left at 0 joins a's right at 8 (within 10 s) and not
	// at 25; the right record at 4 comes out of order, within grace.
	type in struct {
		side, key, value string
		ts               int
	}
	inputs := []in{
		{"left", "a", "L0", 0}, {"left", "b", "Lb", 0}, {"right", "a", "R8", 8},
		{"right", "a", "R4", 4}, {"right", "a", "R25", 25}, {"left", "a", "L20", 20},
		{"left", "a", "Llate", 1}, // 1+5 < watermark 20: late
		{"left", "z", "end", 100}, {"right", "z", "end", 100},
	}
	for _, tc := range []struct {
		mode joinMode
		want []string
	}{
		{innerJoin, []string{"a:L0+R8@8", "a:L0+R4@4", "a:L20+R25@25", "z:end+end@100"}},
		{leftJoin, []string{"a:L0+R8@8", "a:L0+R4@4", "a:L20+R25@25", "b:Lb+-@0", "z:end+end@100"}},
		{outerJoin, []string{"a:L0+R8@8", "a:L0+R4@4", "a:L20+R25@25", "b:Lb+-@0", "z:end+end@100"}},
	} {
		t.Run(fmt.Sprint(tc.mode), func(t *testing.T) {
			d := newDriver(t, joinTopology(tc.mode, w), TestConfig{})
			for _, r := range inputs {
				if err := Input(d, r.side, String(), String()).Pipe(r.key, r.value, at(r.ts)); err != nil {
					t.Fatal(err)
				}
			}
			recs, err := Output(d, "out", String(), String()).Read()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, fmt.Sprintf("%s:%s@%d", r.Key, r.Value, r.Timestamp.Unix()-at(0).Unix()))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %v\nwant %v", got, tc.want)
			}
			if d.tasks[0].late != 1 {
				t.Fatalf("%d late records, want 1", d.tasks[0].late)
			}
		})
	}
}

// The joins' results, over random out-of-order input within the grace
// period, equal those of a nested loop over all pairs.
func TestStreamJoinRandom(t *testing.T) {
	w := JoinWindows{Before: 3 * time.Second, After: 7 * time.Second, Grace: 20 * time.Second}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		type in struct {
			left     bool
			key, val string
			ts       int
		}
		var inputs []in
		for i := range 200 {
			ts := i/4 + rng.IntN(15) // out of order by up to 15 s
			inputs = append(inputs, in{rng.IntN(2) == 0, fmt.Sprint("k", rng.IntN(5)), fmt.Sprint("v", i), ts})
		}
		for _, mode := range []joinMode{innerJoin, leftJoin, outerJoin} {
			var want []string
			matchedL, matchedR := map[int]bool{}, map[int]bool{}
			for i, l := range inputs {
				for j, r := range inputs {
					if l.left && !r.left && l.key == r.key && r.ts >= l.ts-3 && r.ts <= l.ts+7 {
						want = append(want, fmt.Sprintf("%s:%s+%s@%d", l.key, l.val, r.val, max(l.ts, r.ts)))
						matchedL[i], matchedR[j] = true, true
					}
				}
			}
			for i, x := range inputs {
				switch {
				case x.left && !matchedL[i] && mode != innerJoin:
					want = append(want, fmt.Sprintf("%s:%s+-@%d", x.key, x.val, x.ts))
				case !x.left && !matchedR[i] && mode == outerJoin:
					want = append(want, fmt.Sprintf("%s:-+%s@%d", x.key, x.val, x.ts))
				}
			}
			d := newDriver(t, joinTopology(mode, w), TestConfig{})
			for _, r := range inputs {
				side := "right"
				if r.left {
					side = "left"
				}
				if err := Input(d, side, String(), String()).Pipe(r.key, r.val, at(r.ts)); err != nil {
					t.Fatal(err)
				}
			}
			// Far-away records on both sides close every window.
			for _, side := range []string{"left", "right"} {
				if err := Input(d, side, String(), String()).Pipe("end", "end", at(10_000)); err != nil {
					t.Fatal(err)
				}
			}
			recs, err := Output(d, "out", String(), String()).Read()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				if r.Key != "end" {
					got = append(got, fmt.Sprintf("%s:%s@%d", r.Key, r.Value, r.Timestamp.Unix()-at(0).Unix()))
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, mode %d: got %d results, want %d\ngot  %v\nwant %v", seed, mode, len(got), len(want), got, want)
			}
			if late := d.tasks[0].late; late != 0 {
				t.Fatalf("seed %d: %d late records", seed, late)
			}
		}
	}
}
