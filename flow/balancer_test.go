package flow

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// tasksFor returns the tasks of word count with 4 partitions: sub-topology
// 0 (stateless), then 1 (a store).
func tasksFor(partitions int32) []taskID {
	var out []taskID
	for sub := range 2 {
		for p := range partitions {
			out = append(out, taskID{sub: sub, partition: p})
		}
	}
	return out
}

func statefulSub1(id taskID) bool { return id.sub == 1 }

func tid(sub int, p int32) taskID { return taskID{sub: sub, partition: p} }

// checkPlan checks what every plan must be: each task run by one member,
// the members' task counts within one of each other, each stateful task
// with min(standbys, members-1) standbys, none of them its active member.
func checkPlan(t *testing.T, plan taskPlan, tasks []taskID, members []memberState, standbys int) {
	t.Helper()
	owner := map[taskID]string{}
	lo, hi := len(tasks), 0
	for _, m := range members {
		n := len(plan.active[m.id])
		lo, hi = min(lo, n), max(hi, n)
		for _, id := range plan.active[m.id] {
			if o, dup := owner[id]; dup {
				t.Fatalf("task %s run by %s and %s", id, o, m.id)
			}
			owner[id] = m.id
		}
	}
	if len(owner) != len(tasks) {
		t.Fatalf("%d tasks run, want %d: %v", len(owner), len(tasks), plan.active)
	}
	if hi-lo > 1 {
		t.Fatalf("unbalanced: %v", plan.active)
	}
	want := min(standbys, len(members)-1)
	for _, id := range tasks {
		var on []string
		for _, m := range members {
			if slices.Contains(plan.standby[m.id], id) {
				if owner[id] == m.id {
					t.Fatalf("task %s is active and standby on %s", id, m.id)
				}
				on = append(on, m.id)
			}
		}
		if n := len(on); (statefulSub1(id) && n != want) || (!statefulSub1(id) && n != 0) {
			t.Fatalf("task %s has standbys on %v, want %d", id, on, want)
		}
	}
}

func claims(active []taskID, state map[taskID]int64) map[taskID]taskClaim {
	out := map[taskID]taskClaim{}
	for id, p := range state {
		out[id] = taskClaim{position: p}
	}
	for _, id := range active {
		c, ok := out[id]
		if !ok {
			c.position = -1
		}
		c.active = true
		out[id] = c
	}
	return out
}

func TestPlanTasks(t *testing.T) {
	tasks := tasksFor(4)
	for _, tt := range []struct {
		name     string
		members  []memberState
		standbys int
		// want: member -> tasks it must run (a subset of its plan), and
		// tasks it must keep as standbys.
		wantActive  map[string][]taskID
		wantStandby map[string][]taskID
		// spread: no member keeps more than its share of standbys.
		spread bool
	}{
		{
			name:       "one member runs everything",
			members:    []memberState{{id: "a"}},
			standbys:   1,
			wantActive: map[string][]taskID{"a": tasks},
		},
		{
			name:    "two new members share",
			members: []memberState{{id: "a"}, {id: "b"}},
		},
		{
			name: "a third member joins: the others keep what they can of their stateful tasks",
			members: []memberState{
				{id: "a", tasks: claims([]taskID{tid(0, 0), tid(0, 1), tid(1, 0), tid(1, 1)}, map[taskID]int64{tid(1, 0): 100, tid(1, 1): 90})},
				{id: "b", tasks: claims([]taskID{tid(0, 2), tid(0, 3), tid(1, 2), tid(1, 3)}, map[taskID]int64{tid(1, 2): 80, tid(1, 3): 70})},
				{id: "c"},
			},
			// Sub-topology 1's four tasks on three members: 2, 1, 1.
			wantActive: map[string][]taskID{"a": {tid(1, 0), tid(1, 1)}, "b": {tid(1, 2)}, "c": {tid(1, 3)}},
		},
		{
			name: "a member leaves: its tasks go to their standbys",
			members: []memberState{
				{id: "b", tasks: claims([]taskID{tid(1, 2), tid(0, 2), tid(0, 3)}, map[taskID]int64{tid(1, 2): 80, tid(1, 0): 99})},
				{id: "c", tasks: claims([]taskID{tid(1, 3), tid(0, 0), tid(0, 1)}, map[taskID]int64{tid(1, 3): 70, tid(1, 1): 89})},
			},
			standbys:    1,
			wantActive:  map[string][]taskID{"b": {tid(1, 0), tid(1, 2)}, "c": {tid(1, 1), tid(1, 3)}},
			wantStandby: map[string][]taskID{"c": {tid(1, 0), tid(1, 2)}, "b": {tid(1, 1), tid(1, 3)}},
		},
		{
			name: "a member comes back: it runs again the tasks it holds state of",
			members: []memberState{
				{id: "a", tasks: claims(nil, map[taskID]int64{tid(1, 0): 800, tid(1, 1): 700})},
				{id: "b", tasks: claims(tasks, map[taskID]int64{tid(1, 0): 1000, tid(1, 1): 900, tid(1, 2): 1000, tid(1, 3): 900})},
			},
			wantActive: map[string][]taskID{"a": {tid(1, 0), tid(1, 1)}, "b": {tid(1, 2), tid(1, 3)}},
		},
		{
			name: "two members claim a task: the one with the state further on runs it",
			members: []memberState{
				{id: "a", tasks: claims([]taskID{tid(1, 0)}, map[taskID]int64{tid(1, 0): 5})},
				{id: "b", tasks: claims([]taskID{tid(1, 0)}, map[taskID]int64{tid(1, 0): 50})},
			},
			wantActive: map[string][]taskID{"b": {tid(1, 0)}},
		},
		{
			name: "after a restart, state decides",
			members: []memberState{
				{id: "x", tasks: claims(nil, map[taskID]int64{tid(1, 0): 5, tid(1, 1): 50, tid(1, 2): 500, tid(1, 3): 7})},
				{id: "y", tasks: claims(nil, map[taskID]int64{tid(1, 0): 6, tid(1, 1): 40, tid(1, 2): 400, tid(1, 3): 8})},
			},
			standbys:    1,
			wantActive:  map[string][]taskID{"x": {tid(1, 1), tid(1, 2)}, "y": {tid(1, 0), tid(1, 3)}},
			wantStandby: map[string][]taskID{"x": {tid(1, 0), tid(1, 3)}, "y": {tid(1, 1), tid(1, 2)}},
		},
		{
			name:     "more standbys asked than other members",
			members:  []memberState{{id: "a"}, {id: "b"}, {id: "c"}},
			standbys: 5,
		},
		{
			name:     "standbys spread",
			members:  []memberState{{id: "a"}, {id: "b"}, {id: "c"}, {id: "d"}},
			standbys: 1,
			spread:   true,
		},
		{
			name: "standbys spread, even when one member holds every state",
			members: []memberState{
				{id: "a", tasks: claims(nil, map[taskID]int64{tid(1, 0): 1, tid(1, 1): 1, tid(1, 2): 1, tid(1, 3): 1})},
				{id: "b"}, {id: "c"}, {id: "d"},
			},
			standbys: 2,
			spread:   true,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			plan := planTasks(tasks, tt.members, tt.standbys, statefulSub1)
			checkPlan(t, plan, tasks, tt.members, tt.standbys)
			for m, want := range tt.wantActive {
				for _, id := range want {
					if !slices.Contains(plan.active[m], id) {
						t.Errorf("%s runs %v, want %s among them", m, plan.active[m], id)
					}
				}
			}
			for m, want := range tt.wantStandby {
				for _, id := range want {
					if !slices.Contains(plan.standby[m], id) {
						t.Errorf("%s keeps standbys %v, want %s among them", m, plan.standby[m], id)
					}
				}
			}
			if n := min(tt.standbys, len(tt.members)-1); tt.spread {
				share := (4*n + len(tt.members) - 1) / len(tt.members)
				for m, s := range plan.standby {
					if len(s) > share {
						t.Errorf("%s keeps %d standbys, more than its share %d: %v", m, len(s), share, plan.standby)
					}
				}
			}
			// The plan does not depend on the members' order.
			shuffled := slices.Clone(tt.members)
			rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if again := planTasks(tasks, shuffled, tt.standbys, statefulSub1); !reflect.DeepEqual(again, plan) {
				t.Errorf("members in another order, another plan:\n%v\n%v", plan, again)
			}
		})
	}
}

// TestPlanTasksRandom checks the plan's invariants over random groups.
func TestPlanTasksRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		tasks := tasksFor(1 + rng.Int32N(12))
		members := make([]memberState, 1+rng.IntN(6))
		for i := range members {
			members[i] = memberState{id: fmt.Sprintf("m%d", rng.IntN(1000)*10+i), tasks: map[taskID]taskClaim{}}
			for _, id := range tasks {
				if rng.IntN(3) == 0 {
					members[i].tasks[id] = taskClaim{position: int64(rng.IntN(5)) - 1, active: rng.IntN(2) == 0}
				}
			}
		}
		standbys := rng.IntN(4)
		checkPlan(t, planTasks(tasks, members, standbys, statefulSub1), tasks, members, standbys)
	}
}

func TestGroupUserData(t *testing.T) {
	sub := map[taskID]taskClaim{tid(0, 3): {position: -1, active: true}, tid(1, 0): {position: 1 << 40}, tid(2, 7): {position: 0, active: true}}
	standbys := []taskID{tid(1, 2), tid(1, 0), tid(3, 1)}
	for _, run := range []int64{0, 1, 1 << 60} {
		got, gotRun, err := decodeGroupSubscription(encodeGroupSubscription(sub, run))
		if err != nil || !maps.Equal(got, sub) || gotRun != run {
			t.Fatalf("subscription %v, run %d, %v; want %v, run %d", got, gotRun, err, sub, run)
		}
		back, backRun, err := decodeGroupAssignment(encodeGroupAssignment(standbys, run))
		if err != nil || !slices.Equal(back, []taskID{tid(1, 0), tid(1, 2), tid(3, 1)}) || backRun != run {
			t.Fatalf("assignment %v, run %d, %v", back, backRun, err)
		}
	}
	// Version 1 without a run: as before batch runs.
	if b := encodeGroupAssignment(standbys, 0); b[0] != 1 {
		t.Errorf("assignment without a run has version %d", b[0])
	}
	// None, or an unknown version: empty.
	for _, b := range [][]byte{nil, {}, {9, 1, 2}} {
		if s, _, err := decodeGroupSubscription(b); err != nil || len(s) != 0 {
			t.Errorf("subscription %v: %v, %v", b, s, err)
		}
		if a, _, err := decodeGroupAssignment(b); err != nil || len(a) != 0 {
			t.Errorf("assignment %v: %v, %v", b, a, err)
		}
	}
	// Malformed: errors (version 2 without its run, or with run 0).
	for _, b := range [][]byte{{1, 2, 0}, {1, 1, 0, 0, 2}, {1, 0, 7}, {2, 0}, {2, 0, 0}} {
		if _, _, err := decodeGroupSubscription(b); err == nil {
			t.Errorf("subscription %v decoded", b)
		}
	}
	for _, b := range [][]byte{{1, 2, 0, 0}, {1, 0, 7}, {2, 0}, {2, 0, 0}} {
		if _, _, err := decodeGroupAssignment(b); err == nil {
			t.Errorf("assignment %v decoded", b)
		}
	}
}

// FuzzGroupUserData: the user data of other members' subscriptions and
// of assignments never make the decoders panic, and what decodes encodes
// back the same.
func FuzzGroupUserData(f *testing.F) {
	f.Add(encodeGroupSubscription(map[taskID]taskClaim{tid(1, 2): {position: 7, active: true}}, 0))
	f.Add(encodeGroupAssignment([]taskID{tid(0, 1), tid(4, 2)}, 0))
	f.Add(encodeGroupSubscription(map[taskID]taskClaim{tid(1, 2): {position: 7}}, 12345))
	f.Add(encodeGroupAssignment([]taskID{tid(0, 1)}, -3))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, run, err := decodeGroupSubscription(b); err == nil && len(s) > 0 {
			if again, againRun, err := decodeGroupSubscription(encodeGroupSubscription(s, run)); err != nil || !maps.Equal(again, s) || againRun != run {
				t.Fatalf("%v: %v, %v", s, again, err)
			}
		}
		if a, run, err := decodeGroupAssignment(b); err == nil && len(a) > 0 {
			if again, againRun, err := decodeGroupAssignment(encodeGroupAssignment(a, run)); err != nil || len(again) != len(a) || againRun != run {
				t.Fatalf("%v: %v, %v", a, again, err)
			}
		}
	})
}
