package flow

import (
	"fmt"
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
	if !reflect.DeepEqual(graph.order, []int{1, 0}) || graph.cycle {
		t.Fatalf("order %v, cycle %v; want [1 0], no cycle", graph.order, graph.cycle)
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

// TestEndInputCycle: a foreign-key join's sub-topologies feed each other;
// their input cannot end.
func TestEndInputCycle(t *testing.T) {
	top := NewTopology()
	left := TableOf(top, "orders", String(), String())
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
