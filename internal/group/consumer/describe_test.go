package consumer

import (
	"math"
	"slices"
	"testing"
)

func TestDescribe(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"a": 2, "b": 1})
	join := joinReq("m1", "b", "a")
	join.InstanceID, join.RackID = ptr("i1"), ptr("r1")
	join.SubscribedTopicRegex = ptr(`^$`)
	h.mustSend(join)
	h.mustSend(joinReq("m2", "a"))

	d := h.g.Describe(h.topics, false)
	if d.ErrorCode != 0 || d.Group != "g" || d.State != StateReconciling || d.Epoch != 2 || d.AssignmentEpoch != 2 ||
		d.AssignorName != UniformAssignor || d.AuthorizedOperations != math.MinInt32 {
		t.Fatalf("group described as %+v", d)
	}
	if len(d.Members) != 2 || d.Members[0].MemberID != "m1" || d.Members[1].MemberID != "m2" {
		t.Fatalf("members %+v", d.Members)
	}
	m1 := d.Members[0]
	if deref(m1.InstanceID) != "i1" || deref(m1.RackID) != "r1" || m1.MemberEpoch != 1 ||
		m1.ClientID != "client-m1" || m1.ClientHost != "/127.0.0.1" || m1.MemberType != 1 ||
		!slices.Equal(m1.SubscribedTopics, []string{"a", "b"}) || deref(m1.SubscribedTopicRegex) != "^$" {
		t.Fatalf("m1 described as %+v", m1)
	}
	// m1 still owns all three partitions; its target is smaller.
	if len(m1.Assignment.TopicPartitions) != 2 || m1.Assignment.TopicPartitions[0].Topic != "a" ||
		m1.Assignment.TopicPartitions[0].TopicID != h.topics.id("a") ||
		!slices.Equal(m1.Assignment.TopicPartitions[0].Partitions, []int32{0, 1}) {
		t.Fatalf("m1's assignment %+v", m1.Assignment)
	}
	n := 0
	for _, tp := range m1.TargetAssignment.TopicPartitions {
		n += len(tp.Partitions)
	}
	if n != 2 {
		t.Fatalf("m1's target %+v, want 2 partitions", m1.TargetAssignment)
	}
	m2 := d.Members[1]
	if m2.InstanceID != nil || m2.RackID != nil || m2.SubscribedTopicRegex != nil || m2.Assignment.TopicPartitions == nil {
		t.Fatalf("m2 described as %+v", m2)
	}

	if d := h.g.Describe(h.topics, true); d.AuthorizedOperations != AllGroupOperations {
		t.Fatalf("authorized operations %d, want %d", d.AuthorizedOperations, AllGroupOperations)
	}

	// Deleted topics drop out of the description.
	h.topics.delete("b")
	d = h.g.Describe(h.topics, false)
	for _, tp := range d.Members[0].Assignment.TopicPartitions {
		if tp.Topic == "b" {
			t.Fatal("a deleted topic is described")
		}
	}
}

func TestMembers(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"a": 2})
	h.mustSend(joinReq("m2", "a"))
	h.mustSend(joinReq("m1", "a"))
	ms := h.g.Members()
	if len(ms) != 2 || ms[0].ID != "m1" || ms[1].ID != "m2" {
		t.Fatalf("members %+v", ms)
	}
	if ms[1].State != "Stable" || len(ms[1].Assigned["a"]) != 2 || len(ms[1].Target["a"]) != 1 {
		t.Fatalf("m2 %+v", ms[1])
	}
	h.mustSend(beatReq("m2", 1, parts(h.topics.id("a"), 0, 1)))
	ms = h.g.Members()
	if ms[1].State != "UnrevokedPartitions" || len(ms[1].Revoking["a"]) != 1 {
		t.Fatalf("m2 revoking: %+v", ms[1])
	}
	if ms[0].State != "UnreleasedPartitions" {
		t.Fatalf("m1 waiting: %+v", ms[0])
	}
}
