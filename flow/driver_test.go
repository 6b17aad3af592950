package flow

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// at returns a time t seconds after an arbitrary start.
func at(t int) time.Time { return time.Unix(1_700_000_000+int64(t), 0) }

func newDriver(t *testing.T, top *Topology, cfg TestConfig) *TestDriver {
	t.Helper()
	d, err := NewTestDriver(top, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

func readKVs[K, V any](t *testing.T, out TestOutput[K, V]) []KeyValue[K, V] {
	t.Helper()
	kvs, err := out.ReadKeyValues()
	if err != nil {
		t.Fatal(err)
	}
	return kvs
}

// Word count: lines split into words, regrouped by word (a repartition
// topic), counted.
func TestWordCount(t *testing.T) {
	top := NewTopology()
	lines := Source(top, "lines", String(), String())
	words := FlatMap(lines, func(_, line string) []KeyValue[string, string] {
		var out []KeyValue[string, string]
		for _, w := range strings.Fields(strings.ToLower(line)) {
			out = append(out, KeyValue[string, string]{Key: w, Value: w})
		}
		return out
	}, WithKeyCodec(String()), WithValueCodec(String()))
	words.GroupByKey(Named("words")).Count(Named("counts")).ToStream().To("counts")

	d := newDriver(t, top, TestConfig{ApplicationID: "wc"})
	in := Input(d, "lines", String(), String())
	for i, line := range []string{"the quick fox", "The lazy dog", "the end"} {
		if err := in.Pipe("", line, at(i)); err != nil {
			t.Fatal(err)
		}
	}
	got := readKVs(t, Output(d, "counts", String(), Int64()))
	want := []KeyValue[string, int64]{{"the", 1}, {"quick", 1}, {"fox", 1}, {"the", 2}, {"lazy", 1}, {"dog", 1}, {"the", 3}, {"end", 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("counts\n got %v\nwant %v", got, want)
	}
	// The repartition topic and the changelog carry what Kafka would.
	if n := len(d.Records("wc-words-repartition")); n != 8 {
		t.Errorf("the repartition topic has %d records, want 8", n)
	}
	changelog := d.Records("wc-counts-changelog")
	if len(changelog) != 8 || string(changelog[7].Key) != "end" {
		t.Errorf("the changelog: %d records", len(changelog))
	}
	desc := top.Describe()
	for _, want := range []string{"Sub-topology 0", "Sub-topology 1", "source-0 (source) topics [lines]", "counts (aggregate) stores [counts]"} {
		if !strings.Contains(desc, want) {
			t.Errorf("Describe lacks %q:\n%s", want, desc)
		}
	}
}

// The stateless operators, each on its own.
func TestStatelessOperators(t *testing.T) {
	type kv = KeyValue[string, int64]
	tests := []struct {
		name  string
		build func(s Stream[string, int64])
		in    []kv
		want  []kv
	}{
		{"filter", func(s Stream[string, int64]) {
			s.Filter(func(_ string, v int64) bool { return v%2 == 0 }).To("out")
		}, []kv{{"a", 1}, {"b", 2}, {"c", 4}}, []kv{{"b", 2}, {"c", 4}}},
		{"filter-not", func(s Stream[string, int64]) {
			s.FilterNot(func(_ string, v int64) bool { return v%2 == 0 }).To("out")
		}, []kv{{"a", 1}, {"b", 2}}, []kv{{"a", 1}}},
		{"map", func(s Stream[string, int64]) {
			Map(s, func(k string, v int64) (string, int64) { return k + k, v * 10 }, WithKeyCodec(String()), WithValueCodec(Int64())).To("out")
		}, []kv{{"a", 1}}, []kv{{"aa", 10}}},
		{"map-values", func(s Stream[string, int64]) {
			MapValues(s, func(_ string, v int64) int64 { return -v }, WithValueCodec(Int64())).To("out")
		}, []kv{{"a", 1}}, []kv{{"a", -1}}},
		{"flat-map-values", func(s Stream[string, int64]) {
			FlatMapValues(s, func(_ string, v int64) []int64 { return slices.Repeat([]int64{v}, int(v)) }, WithValueCodec(Int64())).To("out")
		}, []kv{{"a", 2}, {"b", 0}}, []kv{{"a", 2}, {"a", 2}}},
		{"select-key", func(s Stream[string, int64]) {
			SelectKey(s, func(_ string, v int64) string { return fmt.Sprint(v) }, WithKeyCodec(String())).To("out")
		}, []kv{{"a", 7}}, []kv{{"7", 7}}},
		{"branch-merge", func(s Stream[string, int64]) {
			b := s.Branch(func(_ string, v int64) bool { return v < 0 }, func(_ string, v int64) bool { return v > 10 })
			neg := MapValues(b[0], func(_ string, v int64) int64 { return -v }, WithValueCodec(Int64()))
			neg.Merge(b[1]).To("out")
		}, []kv{{"a", -3}, {"b", 5}, {"c", 20}}, []kv{{"a", 3}, {"c", 20}}},
		{"peek", func(s Stream[string, int64]) {
			s.Peek(func(string, int64) {}).To("out")
		}, []kv{{"a", 1}}, []kv{{"a", 1}}},
		{"repartition", func(s Stream[string, int64]) {
			s.Repartition(Named("again")).To("out")
		}, []kv{{"a", 1}, {"b", 2}}, []kv{{"a", 1}, {"b", 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			top := NewTopology()
			tc.build(Source(top, "in", String(), Int64()))
			d := newDriver(t, top, TestConfig{})
			in := Input(d, "in", String(), Int64())
			for i, r := range tc.in {
				if err := in.Pipe(r.Key, r.Value, at(i)); err != nil {
					t.Fatal(err)
				}
			}
			got := readKVs(t, Output(d, "out", String(), Int64()))
			if !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// Aggregating a stream accumulates; aggregating a table replaces: a
// user's new region moves their amount from the old region's total to the
// new one's.
func TestAggregations(t *testing.T) {
	top := NewTopology()
	purchases := Source(top, "purchases", String(), Int64())
	purchases.GroupByKey().Reduce(func(a, b int64) int64 { return a + b }, Named("spent")).ToStream().To("spent")
	GroupBy(purchases, func(_ string, v int64) bool { return v >= 100 }, WithKeyCodec(JSON[bool]())).
		Count(Named("big")).ToStream().To("big")
	Aggregate(purchases.GroupByKey(), func() []int64 { return nil },
		func(_ string, v int64, agg []int64) []int64 { return append(agg, v) },
		Named("history"), WithValueCodec(JSON[[]int64]())).ToStream().To("history")

	users := TableOf(top, "users", String(), String()) // user -> region
	GroupTable(users, func(user, region string) (string, string) { return region, user },
		WithKeyCodec(String()), WithValueCodec(String())).Count(Named("per-region")).To("per-region")

	d := newDriver(t, top, TestConfig{})
	buy := Input(d, "purchases", String(), Int64())
	for i, p := range []KeyValue[string, int64]{{"ann", 50}, {"bob", 150}, {"ann", 200}} {
		if err := buy.Pipe(p.Key, p.Value, at(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := readKVs(t, Output(d, "spent", String(), Int64())), []KeyValue[string, int64]{{"ann", 50}, {"bob", 150}, {"ann", 250}}; !reflect.DeepEqual(got, want) {
		t.Errorf("reduce: got %v, want %v", got, want)
	}
	if got, want := readKVs(t, Output(d, "big", JSON[bool](), Int64())), []KeyValue[bool, int64]{{false, 1}, {true, 1}, {true, 2}}; !reflect.DeepEqual(got, want) {
		t.Errorf("count by a new key: got %v, want %v", got, want)
	}
	if got, want := readKVs(t, Output(d, "history", String(), JSON[[]int64]())), []KeyValue[string, []int64]{{"ann", []int64{50}}, {"bob", []int64{150}}, {"ann", []int64{50, 200}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("aggregate: got %v, want %v", got, want)
	}

	user := Input(d, "users", String(), String())
	steps := []struct {
		user, region string
		delete       bool
	}{{"ann", "eu", false}, {"bob", "eu", false}, {"ann", "us", false}, {"bob", "", true}}
	for i, s := range steps {
		var err error
		if s.delete {
			err = user.Delete(s.user, at(10+i))
		} else {
			err = user.Pipe(s.user, s.region, at(10+i))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	got := readKVs(t, Output(d, "per-region", String(), Int64()))
	want := []KeyValue[string, int64]{{"eu", 1}, {"eu", 2}, {"eu", 1}, {"us", 1}, {"eu", 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("table count per region: got %v, want %v", got, want)
	}
}

// Table operators: filter (a value that stops passing deletes the key),
// map values, to (tombstones).
func TestTableOperators(t *testing.T) {
	top := NewTopology()
	prices := TableOf(top, "prices", String(), Int64(), Named("prices"))
	cheap := prices.Filter(func(_ string, p int64) bool { return p < 10 })
	MapTableValues(cheap, func(_ string, p int64) int64 { return p * 100 }, WithValueCodec(Int64())).To("cheap-cents")
	d := newDriver(t, top, TestConfig{})
	in := Input(d, "prices", String(), Int64())
	for i, p := range []KeyValue[string, int64]{{"tea", 3}, {"cake", 12}, {"tea", 15}, {"cake", 5}} {
		if err := in.Pipe(p.Key, p.Value, at(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.Delete("cake", at(9)); err != nil {
		t.Fatal(err)
	}
	recs, err := Output(d, "cheap-cents", String(), Int64()).Read()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if r.Deleted {
			got = append(got, r.Key+"=deleted")
		} else {
			got = append(got, fmt.Sprintf("%s=%d", r.Key, r.Value))
		}
	}
	want := []string{"tea=300", "tea=deleted", "cake=500", "cake=deleted"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// Poison records: stop, skip, or go to a dead letter topic.
func TestErrorPolicy(t *testing.T) {
	build := func() *Topology {
		top := NewTopology()
		Source(top, "in", String(), Int64()).Filter(func(_ string, v int64) bool {
			if v == 13 {
				panic("unlucky")
			}
			return true
		}).To("out")
		return top
	}
	bad := []byte("not 8 bytes")
	thirteen, _ := Int64().Encode(13)
	for _, tc := range []struct {
		name   string
		policy ErrorPolicy
	}{{"stop", ErrorPolicy{}}, {"skip", ErrorPolicy{Skip: true}}, {"dead-letter", ErrorPolicy{DeadLetterTopic: "dlq"}}} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, build(), TestConfig{OnError: tc.policy})
			errBad := d.Pipe("in", []byte("k"), bad, at(0))
			err13 := d.Pipe("in", []byte("k"), thirteen, at(1))
			if err := Input(d, "in", String(), Int64()).Pipe("k", 1, at(2)); err != nil {
				t.Fatal(err)
			}
			stop := tc.policy == ErrorPolicy{}
			if (errBad != nil) != stop || (err13 != nil) != stop {
				t.Fatalf("errors %v and %v with policy %+v", errBad, err13, tc.policy)
			}
			if n := len(d.Records("out")); n != 1 {
				t.Errorf("%d records out, want 1", n)
			}
			if tc.policy.DeadLetterTopic != "" {
				dl := d.Records("dlq")
				if len(dl) != 2 || string(dl[0].Value) != string(bad) || dl[1].Headers[0].Key != "flow.error" {
					t.Errorf("dead letters: %+v", dl)
				}
			}
		})
	}
}

// Mistakes in building a topology are reported, not panics.
func TestTopologyErrors(t *testing.T) {
	top := NewTopology()
	s := Source(top, "in", String(), String())
	Map(s, func(k, v string) (int, int) { return 0, 0 }).To("out") // no codecs
	Source(top, "in", String(), String())                          // a second source of "in"
	s.Filter(func(string, string) bool { return true }, Named("x"))
	s.Filter(func(string, string) bool { return true }, Named("x"))
	_, err := NewTestDriver(top, TestConfig{})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"codec is needed", "read by two sources", `two operators named "x"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := NewTestDriver(NewTopology(), TestConfig{}); err == nil {
		t.Error("an empty topology accepted")
	}
}

// Orders enriched with their customers' names from a table: inner and
// left joins, the table as it is when each order comes.
func TestJoinTable(t *testing.T) {
	top := NewTopology()
	orders := Source(top, "orders", String(), Int64()) // customer -> amount
	customers := TableOf(top, "customers", String(), String())
	JoinTable(orders, customers, func(_ string, amount int64, name string) string {
		return fmt.Sprintf("%s:%d", name, amount)
	}, WithValueCodec(String())).To("enriched")
	LeftJoinTable(orders, customers, func(_ string, amount int64, name string, found bool) string {
		if !found {
			name = "?"
		}
		return fmt.Sprintf("%s:%d", name, amount)
	}, WithValueCodec(String())).To("all")
	d := newDriver(t, top, TestConfig{})
	order := Input(d, "orders", String(), Int64())
	customer := Input(d, "customers", String(), String())
	steps := []func() error{
		func() error { return order.Pipe("c1", 5, at(0)) },
		func() error { return customer.Pipe("c1", "Ann", at(1)) },
		func() error { return order.Pipe("c1", 7, at(2)) },
		func() error { return customer.Pipe("c1", "Anna", at(3)) },
		func() error { return order.Pipe("c1", 9, at(4)) },
		func() error { return customer.Delete("c1", at(5)) },
		func() error { return order.Pipe("c1", 11, at(6)) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	values := func(topic string) []string {
		var out []string
		for _, kv := range readKVs(t, Output(d, topic, String(), String())) {
			out = append(out, kv.Value)
		}
		return out
	}
	if got, want := values("enriched"), []string{"Ann:7", "Anna:9"}; !reflect.DeepEqual(got, want) {
		t.Errorf("inner join: got %v, want %v", got, want)
	}
	if got, want := values("all"), []string{"?:5", "Ann:7", "Anna:9", "?:11"}; !reflect.DeepEqual(got, want) {
		t.Errorf("left join: got %v, want %v", got, want)
	}
}
