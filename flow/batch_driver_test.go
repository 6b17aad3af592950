package flow

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fireLater sets an event-time timer an hour after each record, and
// forwards "fired@<timer's second>" when it fires.
type fireLater struct{}

func (fireLater) Process(ctx *ProcessorContext[string, string, string], r Record[string, string]) error {
	return ctx.SetTimer(EventTime, r.Key, r.Time.Add(time.Hour))
}

func (fireLater) OnTimer(ctx *ProcessorContext[string, string, string], tm Timer[string]) error {
	return ctx.Forward(Record[string, string]{Key: tm.Key, Value: fmt.Sprintf("fired@%d", tm.Time.Unix()-at(0).Unix()), Time: tm.Time})
}

// endInputCase is a topology reading "in" (or "left" and "right") and
// writing "out", its input, and its expected output before and after
// EndInput.
type endInputCase struct {
	name          string
	build         func() *Topology
	windowed      bool  // "out" holds windowed counts
	input         []any // "topic:key", second, ...
	before, after []string
}

func windowedCount(w func(Grouped[string, string]) Table[Windowed[string], int64]) func() *Topology {
	return func() *Topology {
		top := NewTopology()
		in := Source(top, "in", String(), String())
		w(in.GroupByKey()).ToStream().To("out")
		return top
	}
}

func TestEndInput(t *testing.T) {
	final := []Option{Named("agg"), EmitFinal()}
	join := func(mode joinMode) func() *Topology {
		return func() *Topology { return joinTopology(mode, JoinWithin(10*time.Second)) }
	}
	for _, tc := range []endInputCase{
		{name: "tumbling", windowed: true,
			build: windowedCount(func(g Grouped[string, string]) Table[Windowed[string], int64] {
				return WindowedBy(g, Tumbling(10*time.Second).WithGrace(time.Second)).Count(final...)
			}),
			input:  []any{"in:a", 1, "in:a", 3, "in:b", 12, "in:a", 15},
			before: []string{"a@0-10=2"},
			after:  []string{"a@10-20=1", "b@10-20=1"}},
		{name: "hopping", windowed: true,
			build: windowedCount(func(g Grouped[string, string]) Table[Windowed[string], int64] {
				return WindowedBy(g, Hopping(10*time.Second, 5*time.Second)).Count(final...)
			}),
			input:  []any{"in:a", 1, "in:a", 7, "in:b", 12},
			before: []string{"a@-5-5=1", "a@0-10=2"},
			after:  []string{"a@5-15=1", "b@5-15=1", "b@10-20=1"}},
		{name: "session", windowed: true,
			build: windowedCount(func(g Grouped[string, string]) Table[Windowed[string], int64] {
				return SessionWindowedBy(g, Sessions(5*time.Second)).Count(final...)
			}),
			input:  []any{"in:a", 0, "in:a", 3, "in:b", 20, "in:a", 21},
			before: []string{"a@0-3=2"},
			after:  []string{"b@20-20=1", "a@21-21=1"}},
		{name: "sliding", windowed: true,
			build: windowedCount(func(g Grouped[string, string]) Table[Windowed[string], int64] {
				return SlidingWindowedBy(g, Sliding(10*time.Second)).Count(final...)
			}),
			input:  []any{"in:a", 10, "in:a", 15, "in:b", 40},
			before: []string{"a@0-10=1", "a@5-15=2"},
			after:  []string{"b@30-40=1"}},
		{name: "left join", build: join(leftJoin),
			input:  []any{"left:a", 0, "right:a", 3, "left:b", 5},
			before: []string{"a:a0+a3@3"},
			after:  []string{"b:b5+-@5"}},
		{name: "outer join", build: join(outerJoin),
			input:  []any{"left:a", 0, "right:a", 3, "left:b", 5, "right:c", 6},
			before: []string{"a:a0+a3@3"},
			after:  []string{"b:b5+-@5", "c:-+c6@6"}},
		{name: "event-time timers",
			build: func() *Topology {
				top := NewTopology()
				Process(Source(top, "in", String(), String()), func() Processor[string, string, string, string] { return fireLater{} },
					Named("later"), WithKeyCodec(String()), WithValueCodec(String())).To("out")
				return top
			},
			input:  []any{"in:a", 0, "in:b", 1000, "in:c", 4000},
			before: []string{"a:fired@3600@3600"},
			after:  []string{"b:fired@4600@4600", "c:fired@7600@7600"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, tc.build(), TestConfig{})
			for i := 0; i < len(tc.input); i += 2 {
				topic, key, _ := strings.Cut(tc.input[i].(string), ":")
				pipeKeyed(t, d, topic, []any{key, tc.input[i+1]})
			}
			read := func() []string {
				if tc.windowed {
					return windowedResults(t, d, "out")
				}
				return joinedResults(t, d)
			}
			if got := read(); !reflect.DeepEqual(got, tc.before) {
				t.Fatalf("before the end: got %v, want %v", got, tc.before)
			}
			if err := d.EndInput(); err != nil {
				t.Fatal(err)
			}
			if got := read(); !reflect.DeepEqual(got, tc.after) {
				t.Fatalf("at the end: got %v, want %v", got, tc.after)
			}
			// Ending again changes nothing.
			if err := d.EndInput(); err != nil {
				t.Fatal(err)
			}
			if got := read(); len(got) != 0 {
				t.Fatalf("ending twice: %v", got)
			}
		})
	}
}

// pipeKeyed pipes keys at times (seconds after at(0)) into topic, each
// with the value key+second.
func pipeKeyed(t *testing.T, d *TestDriver, topic string, records []any) {
	t.Helper()
	in := Input(d, topic, String(), String())
	for i := 0; i < len(records); i += 2 {
		k, s := records[i].(string), records[i+1].(int)
		if err := in.Pipe(k, k+strconv.Itoa(s), at(s)); err != nil {
			t.Fatal(err)
		}
	}
}

// joinedResults reads "out" as "key:value@second".
func joinedResults(t *testing.T, d *TestDriver) []string {
	t.Helper()
	recs, err := Output(d, "out", String(), String()).Read()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%s:%s@%d", r.Key, r.Value, r.Timestamp.Unix()-at(0).Unix()))
	}
	return out
}

// TestEndInputOrder: a sub-topology's input ends after those of the
// sub-topologies writing its repartition topics, whatever their numbers:
// here sub-topology 0 reads what sub-topology 1's final windows emit at
// the end.
func TestEndInputOrder(t *testing.T) {
	top := NewTopology()
	a := Source(top, "a", String(), String())
	b := Source(top, "b", String(), String())
	perKey := WindowedBy(b.GroupByKey(), Tumbling(10*time.Second)).Count(Named("per-key"), EmitFinal()).ToStream()
	moved := Map(perKey, func(w Windowed[string], n int64) (string, string) { return "all", strconv.FormatInt(n, 10) },
		WithKeyCodec(String()), WithValueCodec(String())).Repartition(Named("moved"))
	WindowedBy(a.Merge(moved).GroupByKey(), Tumbling(100*time.Second)).Count(Named("total"), EmitFinal()).ToStream().To("out")
	if err := top.build(); err != nil {
		t.Fatal(err)
	}
	graph := newBatchGraph(top, "test")
	if moved := RepartitionTopic("test", "moved"); graph.cycle || graph.writer[moved] != 1 || graph.early[moved] != nil {
		t.Fatalf("writer %v, early %v, cycle %v; want moved written by 1 once it finishes, no cycle", graph.writer, graph.early, graph.cycle)
	}
	d := newDriver(t, top, TestConfig{})
	pipeKeyed(t, d, "a", []any{"all", 1})
	pipeKeyed(t, d, "b", []any{"x", 2, "y", 3, "x", 5})
	if err := d.EndInput(); err != nil {
		t.Fatal(err)
	}
	// "all": one record of a, and the counts of x and y's window.
	if got, want := windowedResults(t, d, "out"), []string{"all@0-100=3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestEndInputForeignKey: a foreign-key join's sub-topologies read each
// other's repartition topics, but its subscriptions come from the left
// table alone: the left side's subscriptions end with its input, then
// the right side ends, then the left. Here the right table's values come
// from final windows, so at the end only: the join at the end is the
// join of the tables as they are then.
func TestEndInputForeignKey(t *testing.T) {
	for _, left := range []bool{false, true} {
		t.Run(fmt.Sprintf("left=%v", left), func(t *testing.T) {
			top := NewTopology()
			orders := TableOf(top, "orders", String(), String()) // order -> customer
			names := WindowedBy(Source(top, "customers", String(), String()).GroupByKey(), Tumbling(24*time.Hour)).
				Reduce(func(_, v string) string { return v }, Named("names-final"), EmitFinal()).ToStream()
			customers := Map(names, func(w Windowed[string], v string) (string, string) { return w.Key, v },
				WithKeyCodec(String()), WithValueCodec(String())).GroupByKey(Named("by-customer")).
				Reduce(func(_, v string) string { return v }, Named("customers"))
			if left {
				LeftJoinForeignKey(orders, customers, func(v string) string { return v },
					func(o, v, name string, found bool) string {
						if !found {
							name = "?"
						}
						return v + "@" + name
					}, Named("fk"), WithValueCodec(String())).To("out")
			} else {
				JoinForeignKey(orders, customers, func(v string) string { return v },
					func(o, v, name string) string { return v + "@" + name }, Named("fk"), WithValueCodec(String())).To("out")
			}
			if _, err := New(top, Config{ApplicationID: "x", Brokers: []string{"127.0.0.1:1"}, Batch: &Batch{}}); err != nil {
				t.Fatalf("New refused a foreign-key join in batch mode: %v", err)
			}
			d := newDriver(t, top, TestConfig{})
			ordersIn, customersIn := Input(d, "orders", String(), String()), Input(d, "customers", String(), String())
			ordersNow, customersNow := map[string]string{}, map[string]string{}
			rng := rand.New(rand.NewPCG(5, 0))
			for i := range 200 { // within a day's window
				var err error
				if o := fmt.Sprint("o", rng.IntN(12)); rng.IntN(2) == 0 {
					ordersNow[o] = fmt.Sprint("c", rng.IntN(5))
					err = ordersIn.Pipe(o, ordersNow[o], at(i))
				} else {
					c := fmt.Sprint("c", rng.IntN(4)) // c4 never comes
					customersNow[c] = fmt.Sprint("name", i)
					err = customersIn.Pipe(c, customersNow[c], at(i))
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := d.EndInput(); err != nil {
				t.Fatal(err)
			}
			recs, err := Output(d, "out", String(), String()).Read()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range recs {
				if r.Deleted {
					delete(got, r.Key)
				} else {
					got[r.Key] = r.Value
				}
			}
			want := map[string]string{}
			for o, c := range ordersNow {
				name, found := customersNow[c]
				switch {
				case found:
					want[o] = c + "@" + name
				case left:
					want[o] = c + "@?"
				}
			}
			if !maps.Equal(got, want) {
				t.Fatalf("the join at the end:\n got %v\nwant %v", got, want)
			}
		})
	}
}

// TestEndInputCycle: with a stream-stream join above a foreign-key
// join's left table, the subscriptions may come at the left side's final
// watermark, which comes once its responses have ended, which wait for
// the subscriptions: no end marker settles it.
func TestEndInputCycle(t *testing.T) {
	top := NewTopology()
	a, b := Source(top, "a", String(), String()), Source(top, "b", String(), String())
	pairs := Join(a, b, JoinWindows{Before: time.Second, After: time.Second}, func(_, x, y string) string { return x + y },
		Named("pairs"), WithValueCodec(String()))
	left := pairs.GroupByKey().Reduce(func(_, v string) string { return v }, Named("latest"))
	right := TableOf(top, "customers", String(), String())
	JoinForeignKey(left, right, func(v string) string { return v }, func(_, l, r string) string { return l + r },
		Named("fk"), WithValueCodec(String())).ToStream().To("out")
	d := newDriver(t, top, TestConfig{})
	if err := d.EndInput(); err == nil {
		t.Fatal("EndInput ended a cycle")
	}
	if _, err := New(top, Config{ApplicationID: "x", Brokers: []string{"127.0.0.1:1"}, Batch: &Batch{}}); err == nil {
		t.Fatal("New accepted a cycle in batch mode")
	}
}
