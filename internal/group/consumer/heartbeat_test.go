package consumer

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Every refusal of a heartbeat, against a group holding m1 (dynamic, epoch
// 1) and s1 (static, instance i1, epoch 2) with a maximum of 3 members.
func TestHeartbeatErrors(t *testing.T) {
	type request = kmsg.ConsumerGroupHeartbeatRequest
	join := func(change func(*request)) *request {
		r := joinReq("new", "t")
		change(r)
		return r
	}
	beat := func(change func(*request)) *request {
		r := beatReq("m1", 2, parts())
		change(r)
		return r
	}
	for _, tc := range []struct {
		name string
		req  *request
		want *kerr.Error
	}{
		{"v1 join without member id", join(func(r *request) { r.MemberID = "" }), kerr.InvalidRequest},
		{"v0 heartbeat without member id", beat(func(r *request) { r.Version, r.MemberID = 0, "" }), kerr.InvalidRequest},
		{"v0 leave without member id", beat(func(r *request) { r.Version, r.MemberID, r.MemberEpoch = 0, "", -1 }), kerr.InvalidRequest},
		{"blank member id", beat(func(r *request) { r.MemberID = "  " }), kerr.InvalidRequest},
		{"no group id", join(func(r *request) { r.Group = "" }), kerr.InvalidRequest},
		{"blank instance id", join(func(r *request) { r.InstanceID = ptr(" ") }), kerr.InvalidRequest},
		{"blank rack id", join(func(r *request) { r.RackID = ptr("") }), kerr.InvalidRequest},
		{"join without rebalance timeout", join(func(r *request) { r.RebalanceTimeoutMillis = -1 }), kerr.InvalidRequest},
		{"join with null owned partitions", join(func(r *request) { r.Topics = nil }), kerr.InvalidRequest},
		{"join owning partitions", join(func(r *request) { r.Topics = ownedTopics(parts([16]byte{1}, 0)) }), kerr.InvalidRequest},
		{"join without subscription", join(func(r *request) { r.SubscribedTopicNames = nil }), kerr.InvalidRequest},
		{"static leave without instance id", beat(func(r *request) { r.MemberEpoch = -2 }), kerr.InvalidRequest},
		{"epoch below -2", beat(func(r *request) { r.MemberEpoch = -3 }), kerr.InvalidRequest},
		{"unknown assignor", join(func(r *request) { r.ServerAssignor = ptr("cooperative-sticky") }), kerr.UnsupportedAssignor},
		{"unknown assignor on a heartbeat", beat(func(r *request) { r.ServerAssignor = ptr("sticky") }), kerr.UnsupportedAssignor},
		{"invalid regex", join(func(r *request) { r.SubscribedTopicRegex = ptr("(") }), kerr.InvalidRegularExpression},
		{"group full", join(func(r *request) {}), kerr.GroupMaxSizeReached},
		{"unknown member", beat(func(r *request) { r.MemberID = "nobody" }), kerr.UnknownMemberID},
		{"unknown member leaving", beat(func(r *request) { r.MemberID, r.MemberEpoch = "nobody", -1 }), kerr.UnknownMemberID},
		{"epoch ahead", beat(func(r *request) { r.MemberEpoch = 5 }), kerr.FencedMemberEpoch},
		{"epoch behind", beat(func(r *request) { r.MemberID, r.MemberEpoch = "s1", 1 }), kerr.FencedMemberEpoch},
		{"instance id in use", join(func(r *request) { r.InstanceID = ptr("i1") }), kerr.UnreleasedInstanceID},
		{"instance id of another", beat(func(r *request) { r.InstanceID = ptr("i1") }), kerr.FencedInstanceID},
		{"unknown instance id", beat(func(r *request) { r.InstanceID = ptr("i9") }), kerr.UnknownMemberID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{MaxSize: 3}, map[string]int32{"t": 2})
			h.mustSend(joinReq("m1", "t"))
			s1 := joinReq("s1", "t")
			s1.InstanceID = ptr("i1")
			h.mustSend(s1)
			h.mustSend(joinReq("m3", "t"))
			h.mustSend(leaveReq("m3", leaveEpoch, "")) // epoch 4 now
			if tc.want == kerr.GroupMaxSizeReached {
				h.mustSend(joinReq("m4", "t"))
			}
			h.mustSend(beatReq("m1", h.g.members["m1"].epoch, h.g.members["m1"].assigned))
			tc.req.MemberEpoch = adjustEpoch(h, tc.req)
			before := h.g.Epoch()
			members := h.g.Len()

			resp := h.send(tc.req)
			if resp.ErrorCode != tc.want.Code {
				t.Fatalf("got %v (%s), want %s", kerr.ErrorForCode(resp.ErrorCode), deref(resp.ErrorMessage), tc.want.Message)
			}
			if resp.ErrorMessage == nil || *resp.ErrorMessage == "" {
				t.Error("no error message")
			}
			if resp.MemberID != nil || resp.Assignment != nil || resp.HeartbeatIntervalMillis != 5000 {
				t.Errorf("error response carries member %v, assignment %v, interval %d", resp.MemberID, resp.Assignment, resp.HeartbeatIntervalMillis)
			}
			if h.g.Epoch() != before || h.g.Len() != members {
				t.Errorf("a refused heartbeat changed the group: epoch %d -> %d, members %d -> %d", before, h.g.Epoch(), members, h.g.Len())
			}
		})
	}
}

// adjustEpoch turns the table's placeholder epochs into ones relative to
// the group: 2 is m1's current epoch, 5 one past the group's, 1 an epoch
// before the previous one.
func adjustEpoch(h *harness, req *kmsg.ConsumerGroupHeartbeatRequest) int32 {
	m := h.g.members[req.MemberID]
	switch {
	case req.MemberEpoch == 2 && m != nil:
		return m.epoch
	case req.MemberEpoch == 5:
		return h.g.Epoch() + 1
	}
	return req.MemberEpoch
}

// The response carries the assignment on a join, on a full request and
// when it changed; otherwise it is null.
func TestResponseAssignmentPresence(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 2})
	id := h.topics.id("t")
	if resp := h.mustSend(joinReq("m1", "t")); resp.Assignment == nil {
		t.Fatal("join without assignment")
	}
	if resp := h.mustSend(beatReq("m1", 1, parts(id, 0, 1))); resp.Assignment != nil {
		t.Fatal("unchanged assignment sent")
	}
	full := beatReq("m1", 1, parts(id, 0, 1))
	full.RebalanceTimeoutMillis = 60_000
	full.SubscribedTopicNames = []string{"t"}
	if resp := h.mustSend(full); resp.Assignment == nil || fromResponse(resp.Assignment).size() != 2 {
		t.Fatal("full request without assignment")
	}
	h.mustSend(joinReq("m2", "t"))
	resp := h.mustSend(beatReq("m1", 1, parts(id, 0, 1)))
	if resp.Assignment == nil || fromResponse(resp.Assignment).size() != 1 {
		t.Fatalf("changed assignment not sent: %v", resp.Assignment)
	}
	if resp := h.mustSend(beatReq("m1", 1, parts(id, 0, 1))); resp.Assignment != nil {
		t.Fatal("the shrunk assignment was sent twice")
	}
}

func TestGroupMaxSize(t *testing.T) {
	h := newHarness(t, Config{MaxSize: 2}, map[string]int32{"t": 2})
	s := joinReq("a", "t")
	s.InstanceID = ptr("i")
	h.mustSend(s)
	h.mustSend(joinReq("b", "t"))
	if resp := h.send(joinReq("c", "t")); resp.ErrorCode != kerr.GroupMaxSizeReached.Code {
		t.Fatalf("third member: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	// Members already in keep heartbeating and rejoining.
	h.mustSend(beatReq("b", 2, nil))
	h.mustSend(joinReq("b", "t"))
	// A static member replacing its parked self does not grow the group.
	h.mustSend(leaveReq("a", staticLeaveEpoch, "i"))
	s = joinReq("a-2", "t")
	s.InstanceID = ptr("i")
	h.mustSend(s)
	if h.g.Len() != 2 {
		t.Fatalf("%d members, want 2", h.g.Len())
	}
}

func TestServerAssignorChoice(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 4})
	h.mustSend(joinReq("m1", "t"))
	if d := h.g.Describe(h.topics, false); d.AssignorName != UniformAssignor {
		t.Fatalf("default assignor %s, want uniform", d.AssignorName)
	}
	epoch := h.g.Epoch()

	// One member asking for range makes range the group's assignor.
	req := beatReq("m1", 1, nil)
	req.ServerAssignor = ptr(RangeAssignor)
	h.mustSend(req)
	if h.g.Epoch() != epoch+1 || h.g.selectedAssignor() != RangeAssignor {
		t.Fatalf("asking for range: epoch %d, assignor %s", h.g.Epoch(), h.g.selectedAssignor())
	}

	// Two against one: uniform.
	join := joinReq("m2", "t")
	join.ServerAssignor = ptr(UniformAssignor)
	h.mustSend(join)
	join = joinReq("m3", "t")
	join.ServerAssignor = ptr(UniformAssignor)
	h.mustSend(join)
	if h.g.selectedAssignor() != UniformAssignor {
		t.Fatalf("majority for uniform, group uses %s", h.g.selectedAssignor())
	}

	// Asking again for what one asked already changes nothing.
	epoch = h.g.Epoch()
	req = beatReq("m2", h.g.members["m2"].epoch, nil)
	req.ServerAssignor = ptr(UniformAssignor)
	h.mustSend(req)
	if h.g.Epoch() != epoch {
		t.Fatal("repeating the assignor bumped the epoch")
	}
}
