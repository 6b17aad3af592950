package consumer

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestJoinLeaveRejoin(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 3})
	if got := h.g.State(); got != StateEmpty {
		t.Fatalf("new group is %s, want Empty", got)
	}

	resp := h.mustSend(joinReq("m1", "t"))
	if resp.MemberEpoch != 1 || h.g.Epoch() != 1 {
		t.Fatalf("join: member epoch %d, group epoch %d; want 1 and 1", resp.MemberEpoch, h.g.Epoch())
	}
	if deref(resp.MemberID) != "m1" {
		t.Fatalf("join answered member id %s, want m1", deref(resp.MemberID))
	}
	if got, want := fromResponse(resp.Assignment), parts(h.topics.id("t"), 0, 1, 2); !got.equal(want) {
		t.Fatalf("join assigned %v, want %v", got.list(), want.list())
	}
	if resp.HeartbeatIntervalMillis != 5000 {
		t.Fatalf("heartbeat interval %d ms, want Kafka's 5000", resp.HeartbeatIntervalMillis)
	}
	if got := h.g.State(); got != StateStable {
		t.Fatalf("after the join the group is %s, want Stable", got)
	}

	// A heartbeat with nothing new gets no assignment.
	resp = h.mustSend(beatReq("m1", 1, fromResponse(resp.Assignment)))
	if resp.Assignment != nil || resp.MemberEpoch != 1 {
		t.Fatalf("quiet heartbeat: epoch %d, assignment %v; want 1 and none", resp.MemberEpoch, resp.Assignment)
	}

	resp = h.mustSend(leaveReq("m1", leaveEpoch, ""))
	if resp.MemberEpoch != leaveEpoch || deref(resp.MemberID) != "m1" {
		t.Fatalf("leave answered %s at %d, want m1 at -1", deref(resp.MemberID), resp.MemberEpoch)
	}
	if h.g.Len() != 0 || h.g.State() != StateEmpty || h.g.Epoch() != 2 {
		t.Fatalf("after the leave: %d members, %s, epoch %d; want 0, Empty, 2", h.g.Len(), h.g.State(), h.g.Epoch())
	}

	resp = h.mustSend(joinReq("m1", "t"))
	if resp.MemberEpoch != 3 || fromResponse(resp.Assignment).size() != 3 {
		t.Fatalf("rejoin: epoch %d with %d partitions, want 3 with 3", resp.MemberEpoch, fromResponse(resp.Assignment).size())
	}
	if h.g.Rebalances() != 3 {
		t.Fatalf("%d rebalances, want 3", h.g.Rebalances())
	}
}

func TestVersion0JoinGetsServerMemberID(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 1})
	req := joinReq("", "t")
	req.Version = 0
	resp := h.mustSend(req)
	if deref(resp.MemberID) != "server-1" {
		t.Fatalf("v0 join got member id %s, want server-1 from NewMemberID", deref(resp.MemberID))
	}
	resp = h.mustSend(beatReq("server-1", resp.MemberEpoch, fromResponse(resp.Assignment)))
	if resp.MemberEpoch != 1 {
		t.Fatalf("heartbeat of the new member: epoch %d, want 1", resp.MemberEpoch)
	}
}

func TestDefaultMemberIDLooksLikeKafkaUUID(t *testing.T) {
	for range 200 {
		id := randomMemberID()
		if len(id) != 22 || id[0] == '-' {
			t.Fatalf("member id %q: want 22 characters not starting with '-'", id)
		}
	}
}

// A member that rejoins with its own member id (epoch 0) is taken back
// as it is, whatever epoch the group knew it at: KIP-848's recovery of a
// fenced member.
func TestRejoinWithSameMemberID(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 2})
	h.mustSend(joinReq("m1", "t"))
	h.mustSend(beatReq("m1", 1, parts(h.topics.id("t"), 0, 1)))
	resp := h.mustSend(joinReq("m1", "t"))
	if resp.MemberEpoch != 1 || h.g.Epoch() != 1 || fromResponse(resp.Assignment).size() != 2 {
		t.Fatalf("rejoin: epoch %d (group %d), %d partitions; want 1, 1, 2",
			resp.MemberEpoch, h.g.Epoch(), fromResponse(resp.Assignment).size())
	}
}

// Fields a heartbeat leaves null keep their values.
func TestNullFieldsKeepTheirValues(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"a": 1, "b": 1})
	join := joinReq("m1", "a")
	rack, assignor := "rack-1", RangeAssignor
	join.RackID, join.ServerAssignor = &rack, &assignor
	join.RebalanceTimeoutMillis = 30_000
	h.mustSend(join)
	h.mustSend(beatReq("m1", 1, nil))

	m := h.g.Members()[0]
	if m.RackID != "rack-1" || m.ServerAssignor != RangeAssignor || m.RebalanceTimeout != 30*time.Second ||
		len(m.SubscribedTopicNames) != 1 || m.SubscribedTopicNames[0] != "a" {
		t.Fatalf("after a heartbeat of nulls the member is %+v", m)
	}
	if h.g.Epoch() != 1 {
		t.Fatalf("a heartbeat of nulls bumped the epoch to %d", h.g.Epoch())
	}

	// An empty list is a change: no topics.
	req := beatReq("m1", 1, nil)
	req.SubscribedTopicNames = []string{}
	resp := h.mustSend(req)
	if h.g.Epoch() != 2 || len(h.g.Members()[0].SubscribedTopicNames) != 0 {
		t.Fatalf("unsubscribing from everything: epoch %d, names %v", h.g.Epoch(), h.g.Members()[0].SubscribedTopicNames)
	}
	// The member still owns a: it must revoke it first.
	if resp.MemberEpoch != 1 || fromResponse(resp.Assignment).size() != 0 {
		t.Fatalf("unsubscribed member: epoch %d, assignment %v; want 1 and empty", resp.MemberEpoch, resp.Assignment)
	}
}

func TestDelete(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 1})
	h.mustSend(joinReq("m1", "t"))
	if code := h.g.Delete(); code != kerr.NonEmptyGroup.Code {
		t.Fatalf("deleting a group with a member: %v, want NON_EMPTY_GROUP", kerr.ErrorForCode(code))
	}
	h.mustSend(leaveReq("m1", leaveEpoch, ""))
	if code := h.g.Delete(); code != 0 {
		t.Fatalf("deleting an empty group: %v", kerr.ErrorForCode(code))
	}
	if h.g.State() != StateDead {
		t.Fatalf("deleted group is %s", h.g.State())
	}
	if code := h.g.Delete(); code != kerr.GroupIDNotFound.Code {
		t.Fatalf("deleting it again: %v, want GROUP_ID_NOT_FOUND", kerr.ErrorForCode(code))
	}
	if d := h.g.Describe(h.topics, false); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("describing a deleted group: %v", kerr.ErrorForCode(d.ErrorCode))
	}
	if resp := h.send(joinReq("m2", "t")); resp.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("joining a deleted group: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	if !h.g.NextDeadline().IsZero() {
		t.Fatal("a deleted group has a deadline")
	}
}

// A parked static member keeps the group from being deleted.
func TestDeleteWithParkedStaticMember(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 1})
	join := joinReq("m1", "t")
	join.InstanceID = ptr("i1")
	h.mustSend(join)
	h.mustSend(leaveReq("m1", staticLeaveEpoch, "i1"))
	if code := h.g.Delete(); code != kerr.NonEmptyGroup.Code {
		t.Fatalf("deleting a group holding a parked static member: %v", kerr.ErrorForCode(code))
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{Assignors: []string{"range"}}, true},
		{Config{Assignors: []string{"sticky"}}, false},
		{Config{SessionTimeout: -time.Second}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v", tc.cfg, err)
		}
	}
	g := New("g", Config{Assignors: []string{"sticky", "range"}})
	if g.selectedAssignor() != RangeAssignor {
		t.Fatalf("unknown assignors are not dropped: default %s", g.selectedAssignor())
	}
}

func ptr[T any](v T) *T { return &v }
