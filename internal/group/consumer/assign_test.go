package consumer

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// spec builds assignor input: members named by id with their topics.
type specMember struct {
	id, instance string
	topics       []Topic
	current      assignment
}

func assignSpecs(ms ...specMember) []assignMember {
	out := make([]assignMember, 0, len(ms))
	for _, m := range ms {
		cur := m.current
		if cur == nil {
			cur = make(assignment)
		}
		out = append(out, assignMember{id: m.id, instanceID: m.instance, topics: m.topics, current: cur})
	}
	slices.SortFunc(out, func(a, b assignMember) int {
		if a.id < b.id {
			return -1
		}
		if a.id > b.id {
			return 1
		}
		return 0
	})
	return out
}

func topic(n byte, name string, partitions int32) Topic {
	return Topic{ID: [16]byte{15: n}, Name: name, Partitions: partitions}
}

// checkComplete fails unless every partition of every subscribed topic is
// assigned exactly once, to a member subscribed to its topic.
func checkComplete(t *testing.T, members []assignMember, out map[string]assignment) {
	t.Helper()
	want := map[topicPartition]bool{}
	subscribed := map[string]map[topicID]bool{}
	for _, m := range members {
		subscribed[m.id] = map[topicID]bool{}
		for _, tp := range m.topics {
			subscribed[m.id][tp.ID] = true
			for p := range tp.Partitions {
				want[topicPartition{tp.ID, p}] = true
			}
		}
	}
	seen := map[topicPartition]string{}
	for _, m := range members {
		a, ok := out[m.id]
		if !ok {
			t.Fatalf("no assignment for member %s", m.id)
		}
		for _, tp := range a.list() {
			if !subscribed[m.id][tp.topic] {
				t.Fatalf("member %s got %v, a topic it does not subscribe to", m.id, tp)
			}
			if !want[tp] {
				t.Fatalf("member %s got %v, which does not exist", m.id, tp)
			}
			if other, ok := seen[tp]; ok {
				t.Fatalf("%v given to %s and %s", tp, other, m.id)
			}
			seen[tp] = m.id
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%d of %d partitions assigned", len(seen), len(want))
	}
}

// checkUniformBalance fails unless, for every topic, no member holding
// one of its partitions holds two or more partitions more than any member
// subscribed to it.
func checkUniformBalance(t *testing.T, members []assignMember, out map[string]assignment) {
	t.Helper()
	for _, holder := range members {
		for tid := range out[holder.id] {
			for _, other := range members {
				if !slices.ContainsFunc(other.topics, func(tp Topic) bool { return tp.ID == tid }) {
					continue
				}
				if out[holder.id].size()-out[other.id].size() >= 2 {
					t.Fatalf("%s holds %d partitions, %d more than %s, which also subscribes to topic %v",
						holder.id, out[holder.id].size(), out[holder.id].size()-out[other.id].size(), other.id, tid[15])
				}
			}
		}
	}
}

func TestUniformHomogeneous(t *testing.T) {
	a, b := topic(1, "a", 7), topic(2, "b", 5)
	members := assignSpecs(
		specMember{id: "m1", topics: []Topic{a, b}},
		specMember{id: "m2", topics: []Topic{a, b}},
		specMember{id: "m3", topics: []Topic{a, b}},
	)
	out := uniform{}.assign(members)
	checkComplete(t, members, out)
	for _, m := range members {
		if n := out[m.id].size(); n != 4 {
			t.Fatalf("%s holds %d of 12 partitions, want 4", m.id, n)
		}
		// Fresh partitions of a topic spread over its subscribers.
		if n := len(out[m.id][a.ID]); n < 2 || n > 3 {
			t.Fatalf("%s holds %d partitions of a, want 2 or 3", m.id, n)
		}
	}
}

func TestUniformSticky(t *testing.T) {
	a := topic(1, "a", 9)
	members := assignSpecs(
		specMember{id: "m1", topics: []Topic{a}},
		specMember{id: "m2", topics: []Topic{a}},
		specMember{id: "m3", topics: []Topic{a}},
	)
	first := uniform{}.assign(members)
	for i := range members {
		members[i].current = first[members[i].id]
	}
	// The same input gives the same output.
	again := uniform{}.assign(members)
	for _, m := range members {
		if !again[m.id].equal(first[m.id]) {
			t.Fatalf("a second run moved %s's partitions", m.id)
		}
	}

	// A fourth member takes two partitions; the others give up no more
	// than they must (from 3 each to 2 or 3).
	members = append(members, assignMember{id: "m4", topics: []Topic{a}, current: make(assignment)})
	out := uniform{}.assign(members)
	checkComplete(t, members, out)
	moved := 0
	for _, m := range members[:3] {
		if !out[m.id].minus(first[m.id]).equal(make(assignment)) {
			t.Fatalf("%s received partitions while giving some up", m.id)
		}
		moved += first[m.id].minus(out[m.id]).size()
	}
	if moved != 2 || out["m4"].size() != 2 {
		t.Fatalf("%d partitions moved to the new member (it holds %d), want 2", moved, out["m4"].size())
	}

	// A member leaves: only its partitions move.
	for i := range members {
		members[i].current = out[members[i].id]
	}
	members = slices.DeleteFunc(members, func(m assignMember) bool { return m.id == "m2" })
	out2 := uniform{}.assign(members)
	checkComplete(t, members, out2)
	for _, m := range members {
		if !out[m.id].minus(out2[m.id]).equal(make(assignment)) {
			t.Fatalf("%s lost partitions when m2 left", m.id)
		}
	}
}

func TestUniformHeterogeneous(t *testing.T) {
	a, b, c := topic(1, "a", 6), topic(2, "b", 2), topic(3, "c", 3)
	members := assignSpecs(
		specMember{id: "m1", topics: []Topic{a}},
		specMember{id: "m2", topics: []Topic{a, b}},
		specMember{id: "m3", topics: []Topic{b, c}},
		specMember{id: "m4", topics: nil},
	)
	out := uniform{}.assign(members)
	checkComplete(t, members, out)
	checkUniformBalance(t, members, out)
	if out["m4"].size() != 0 {
		t.Fatal("a member subscribed to nothing got partitions")
	}
}

func TestUniformMoreMembersThanPartitions(t *testing.T) {
	a := topic(1, "a", 2)
	var ms []specMember
	for i := range 5 {
		ms = append(ms, specMember{id: fmt.Sprintf("m%d", i), topics: []Topic{a}})
	}
	members := assignSpecs(ms...)
	out := uniform{}.assign(members)
	checkComplete(t, members, out)
	checkUniformBalance(t, members, out)
}

// The previous target may hold partitions that no longer exist, of topics
// the member no longer subscribes to, or that another member kept too.
func TestUniformDropsStaleCurrent(t *testing.T) {
	a, gone := topic(1, "a", 2), topic(9, "gone", 4)
	members := assignSpecs(
		specMember{id: "m1", topics: []Topic{a}, current: parts(a.ID, 0, 1, 5, gone.ID, 0)},
		specMember{id: "m2", topics: []Topic{a}, current: parts(a.ID, 0, 1)},
	)
	out := uniform{}.assign(members)
	checkComplete(t, members, out)
	checkUniformBalance(t, members, out)
}

func TestUniformZeroMembers(t *testing.T) {
	if out := (uniform{}).assign(nil); len(out) != 0 {
		t.Fatalf("no members gave %v", out)
	}
}

// Random groups, random subscriptions, random previous assignments: the
// result is complete, balanced, deterministic, and stable when run again
// on itself.
func TestUniformProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		var topics []Topic
		for i := range 1 + rng.IntN(5) {
			topics = append(topics, topic(byte(i+1), fmt.Sprintf("t%d", i), int32(rng.IntN(12))))
		}
		var ms []specMember
		for i := range rng.IntN(8) {
			var subs []Topic
			for _, tp := range topics {
				if rng.IntN(3) > 0 {
					subs = append(subs, tp)
				}
			}
			cur := make(assignment)
			for range rng.IntN(6) {
				tp := topics[rng.IntN(len(topics))]
				cur.add(tp.ID, int32(rng.IntN(14)))
			}
			ms = append(ms, specMember{id: fmt.Sprintf("m%02d", i), topics: subs, current: cur})
		}
		members := assignSpecs(ms...)
		out := uniform{}.assign(members)
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			checkComplete(t, members, out)
			checkUniformBalance(t, members, out)
			again := uniform{}.assign(members)
			for _, m := range members {
				if !again[m.id].equal(out[m.id]) {
					t.Fatal("not deterministic")
				}
			}
			for i := range members {
				members[i].current = out[members[i].id]
			}
			stable := uniform{}.assign(members)
			for _, m := range members {
				if !stable[m.id].equal(out[m.id]) {
					t.Fatalf("running again on its own result moved %s's partitions", m.id)
				}
			}
		})
	}
}

func TestRangeCoPartitioned(t *testing.T) {
	t1, t2 := topic(1, "t1", 3), topic(2, "t2", 3)
	members := assignSpecs(
		specMember{id: "m1", topics: []Topic{t1, t2}},
		specMember{id: "m0", topics: []Topic{t1, t2}},
	)
	out := rangeAssignor{}.assign(members)
	checkComplete(t, members, out)
	if !out["m0"].equal(parts(t1.ID, 0, 1, t2.ID, 0, 1)) || !out["m1"].equal(parts(t1.ID, 2, t2.ID, 2)) {
		t.Fatalf("m0 %v, m1 %v", out["m0"].list(), out["m1"].list())
	}
}

// Static members come first, by instance id, then the others by member
// id; with more members than partitions the last get nothing.
func TestRangeOrder(t *testing.T) {
	a := topic(1, "a", 3)
	members := assignSpecs(
		specMember{id: "a-dynamic", topics: []Topic{a}},
		specMember{id: "z-static", instance: "i2", topics: []Topic{a}},
		specMember{id: "y-static", instance: "i1", topics: []Topic{a}},
		specMember{id: "b-dynamic", topics: []Topic{a}},
	)
	out := rangeAssignor{}.assign(members)
	checkComplete(t, members, out)
	want := map[string]assignment{
		"y-static":  parts(a.ID, 0),
		"z-static":  parts(a.ID, 1),
		"a-dynamic": parts(a.ID, 2),
		"b-dynamic": parts(),
	}
	for id, w := range want {
		if !out[id].equal(w) {
			t.Fatalf("%s got %v, want %v", id, out[id].list(), w.list())
		}
	}
}

// Each topic is ranged over its own subscribers.
func TestRangeHeterogeneous(t *testing.T) {
	a, b := topic(1, "a", 5), topic(2, "b", 2)
	members := assignSpecs(
		specMember{id: "m1", topics: []Topic{a}},
		specMember{id: "m2", topics: []Topic{a, b}},
		specMember{id: "m3", topics: []Topic{b}},
	)
	out := rangeAssignor{}.assign(members)
	checkComplete(t, members, out)
	want := map[string]assignment{
		"m1": parts(a.ID, 0, 1, 2),
		"m2": parts(a.ID, 3, 4, b.ID, 0),
		"m3": parts(b.ID, 1),
	}
	for id, w := range want {
		if !out[id].equal(w) {
			t.Fatalf("%s got %v, want %v", id, out[id].list(), w.list())
		}
	}
	if out := (rangeAssignor{}).assign(nil); len(out) != 0 {
		t.Fatal("no members, some assignment")
	}
}
