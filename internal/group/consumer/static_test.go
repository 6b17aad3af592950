package consumer

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// A static member restarts: it leaves with epoch -2, a new process joins
// with the same instance id and a new member id, and takes over the
// partitions and the epoch without a rebalance.
func TestStaticMemberRestart(t *testing.T) {
	h := newHarness(t, Config{SessionTimeout: 30 * time.Second}, map[string]int32{"t": 4})
	c1, c2 := h.newClient("a-1", "t"), h.newClient("b", "t")
	c1.instance = "instance-a"
	settle(t, 5, c1, c2)
	epoch, rebalances := h.g.Epoch(), h.g.Rebalances()
	held := c1.owned.clone()

	resp := h.mustSend(leaveReq("a-1", staticLeaveEpoch, "instance-a"))
	if resp.MemberEpoch != staticLeaveEpoch {
		t.Fatalf("static leave answered epoch %d, want -2", resp.MemberEpoch)
	}
	if h.g.Len() != 2 || h.g.Epoch() != epoch {
		t.Fatalf("after the static leave: %d members, epoch %d; want 2 and %d", h.g.Len(), h.g.Epoch(), epoch)
	}
	if m := h.g.members["a-1"]; m.epoch != staticLeaveEpoch || !m.assigned.equal(held) {
		t.Fatalf("the parked member is at %d owning %v", m.epoch, m.assigned.list())
	}
	if h.g.State() != StateReconciling {
		t.Fatalf("group with a parked member is %s, want Reconciling", h.g.State())
	}
	// The other member keeps its partitions and gets none of a's.
	c2.beat()
	if c2.owned.overlaps(held) {
		t.Fatal("the parked member's partitions went to another member")
	}

	// The restarted process joins with a new member id.
	h.advance(10 * time.Second)
	c1 = h.newClient("a-2", "t")
	c1.instance = "instance-a"
	resp = c1.beat()
	if resp.ErrorCode != 0 || resp.MemberEpoch != epoch || !c1.owned.equal(held) {
		t.Fatalf("static rejoin: %v, epoch %d with %v; want epoch %d with %v",
			kerr.ErrorForCode(resp.ErrorCode), resp.MemberEpoch, c1.owned.list(), epoch, held.list())
	}
	if h.g.Rebalances() != rebalances || h.g.Epoch() != epoch {
		t.Fatalf("the static rejoin caused a rebalance (epoch %d, %d rebalances)", h.g.Epoch(), h.g.Rebalances())
	}
	if h.g.members["a-1"] != nil || h.g.Len() != 2 {
		t.Fatal("the old member id is still in the group")
	}
	if h.g.State() != StateStable {
		t.Fatalf("after the rejoin the group is %s", h.g.State())
	}
	// The old member id, if it shows up again, is fenced by the new one.
	req := beatReq("a-1", epoch, nil)
	req.InstanceID = ptr("instance-a")
	if resp := h.send(req); resp.ErrorCode != kerr.FencedInstanceID.Code {
		t.Fatalf("the replaced member heartbeats: %v, want FENCED_INSTANCE_ID", kerr.ErrorForCode(resp.ErrorCode))
	}
}

// A static member that rejoins with another subscription causes a
// rebalance like any subscription change.
func TestStaticRejoinWithNewSubscription(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 2, "u": 2})
	c := h.newClient("a-1", "t")
	c.instance = "i"
	settle(t, 3, c)
	h.mustSend(leaveReq("a-1", staticLeaveEpoch, "i"))
	epoch := h.g.Epoch()
	c = h.newClient("a-2", "t", "u")
	c.instance = "i"
	settle(t, 3, c)
	if h.g.Epoch() != epoch+1 || c.owned.size() != 4 {
		t.Fatalf("epoch %d (want %d), %d partitions (want 4)", h.g.Epoch(), epoch+1, c.owned.size())
	}
}

// A parked static member that does not come back within its session is
// removed.
func TestParkedStaticMemberExpires(t *testing.T) {
	h := newHarness(t, Config{SessionTimeout: 30 * time.Second}, map[string]int32{"t": 2})
	c1, c2 := h.newClient("a", "t"), h.newClient("b", "t")
	c1.instance = "i"
	settle(t, 5, c1, c2)
	h.mustSend(leaveReq("a", staticLeaveEpoch, "i"))
	epoch := h.g.Epoch()

	h.advance(29 * time.Second)
	c2.beat()
	h.tick()
	if h.g.members["a"] == nil {
		t.Fatal("the parked member was removed before its session ran out")
	}
	h.advance(time.Second)
	h.tick()
	if h.g.members["a"] != nil || h.g.Epoch() != epoch+1 {
		t.Fatalf("the parked member is still there (epoch %d)", h.g.Epoch())
	}
	settle(t, 3, c2)
	if c2.owned.size() != 2 {
		t.Fatalf("b owns %d partitions, want both", c2.owned.size())
	}
	// The instance id is free again.
	c3 := h.newClient("c", "t")
	c3.instance = "i"
	if c3.beat(); c3.lastCode != 0 {
		t.Fatalf("joining with the freed instance id: %v", kerr.ErrorForCode(c3.lastCode))
	}
}

func TestStaticMembershipErrors(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 2})
	join := joinReq("a", "t")
	join.InstanceID = ptr("i")
	h.mustSend(join)

	// Another member joining with a held instance id.
	dup := joinReq("b", "t")
	dup.InstanceID = ptr("i")
	if resp := h.send(dup); resp.ErrorCode != kerr.UnreleasedInstanceID.Code {
		t.Fatalf("duplicate instance id: %v, want UNRELEASED_INSTANCE_ID", kerr.ErrorForCode(resp.ErrorCode))
	}
	// A heartbeat naming an instance id that another member holds.
	req := beatReq("b", 1, nil)
	req.InstanceID = ptr("i")
	if resp := h.send(req); resp.ErrorCode != kerr.FencedInstanceID.Code {
		t.Fatalf("heartbeat with another's instance id: %v, want FENCED_INSTANCE_ID", kerr.ErrorForCode(resp.ErrorCode))
	}
	// A heartbeat naming an instance id nobody holds.
	req = beatReq("a", 1, nil)
	req.InstanceID = ptr("nobody")
	if resp := h.send(req); resp.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("heartbeat with an unknown instance id: %v, want UNKNOWN_MEMBER_ID", kerr.ErrorForCode(resp.ErrorCode))
	}
	// Leaving with an instance id another member holds.
	if resp := h.send(leaveReq("b", leaveEpoch, "i")); resp.ErrorCode != kerr.FencedInstanceID.Code {
		t.Fatalf("leave with another's instance id: %v, want FENCED_INSTANCE_ID", kerr.ErrorForCode(resp.ErrorCode))
	}
	// A static member leaving for good is removed.
	if resp := h.mustSend(leaveReq("a", leaveEpoch, "i")); resp.MemberEpoch != leaveEpoch {
		t.Fatalf("static leave for good answered %d", resp.MemberEpoch)
	}
	if h.g.Len() != 0 || len(h.g.static) != 0 {
		t.Fatal("the static member is still there")
	}
}

// A client that rejoins under its own member id with a parked instance
// id gives up what it had under that id first.
func TestStaticTakeoverByExistingMemberID(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 4})
	c1, c2 := h.newClient("a", "t"), h.newClient("b", "t")
	c1.instance = "i"
	settle(t, 5, c1, c2)
	h.mustSend(leaveReq("a", staticLeaveEpoch, "i"))

	c2.instance = "i"
	c2.joined = false
	c2.beat()
	if c2.lastCode != 0 {
		t.Fatalf("takeover: %v", kerr.ErrorForCode(c2.lastCode))
	}
	settle(t, 5, c2)
	if h.g.Len() != 1 || c2.owned.size() != 4 {
		t.Fatalf("%d members, b owns %d; want 1 and 4", h.g.Len(), c2.owned.size())
	}
}
