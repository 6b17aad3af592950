package consumer

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestSessionTimeout(t *testing.T) {
	h := newHarness(t, Config{SessionTimeout: 10 * time.Second}, map[string]int32{"t": 4})
	c1, c2 := h.newClient("m1", "t"), h.newClient("m2", "t")
	settle(t, 5, c1, c2)
	epoch := h.g.Epoch()

	if got, want := h.g.NextDeadline(), h.now.Add(10*time.Second); !got.Equal(want) {
		t.Fatalf("next deadline %v, want %v", got, want)
	}

	// m1 keeps heartbeating, m2 goes quiet.
	h.advance(6 * time.Second)
	c1.beat()
	h.tick()
	if h.g.Len() != 2 {
		t.Fatal("a member was removed before its session ran out")
	}
	h.advance(4 * time.Second)
	h.tick()
	if h.g.Len() != 1 || h.g.members["m2"] != nil {
		t.Fatalf("m2's session ran out but the group has %d members", h.g.Len())
	}
	if h.g.Epoch() != epoch+1 {
		t.Fatalf("epoch %d after the timeout, want %d", h.g.Epoch(), epoch+1)
	}
	// m2's partitions were released: m1 gets them at once.
	c2.owned = make(assignment) // the client is gone
	settle(t, 3, c1)
	if c1.owned.size() != 4 {
		t.Fatalf("m1 owns %d partitions, want all 4", c1.owned.size())
	}
	// m2 comes back and is told it is not a member.
	if resp := h.send(beatReq("m2", c2.epoch, c2.owned)); resp.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("heartbeat of a removed member: %v, want UNKNOWN_MEMBER_ID", kerr.ErrorForCode(resp.ErrorCode))
	}

	h.advance(time.Hour)
	h.tick()
	if h.g.State() != StateEmpty || !h.g.NextDeadline().IsZero() {
		t.Fatalf("after everyone timed out: %s, next deadline %v", h.g.State(), h.g.NextDeadline())
	}
}

// A member that does not revoke within its rebalance timeout is removed;
// the partitions it held go to the member waiting for them.
func TestRebalanceTimeout(t *testing.T) {
	h := newHarness(t, Config{SessionTimeout: time.Minute}, map[string]int32{"t": 2})
	id := h.topics.id("t")
	join := joinReq("m1", "t")
	join.RebalanceTimeoutMillis = 5000
	h.mustSend(join)
	h.mustSend(joinReq("m2", "t"))

	// m1 is told to revoke and keeps heartbeating without doing it.
	h.advance(time.Second)
	h.mustSend(beatReq("m1", 1, parts(id, 0, 1)))
	if got, want := h.g.NextDeadline(), h.now.Add(5*time.Second); !got.Equal(want) {
		t.Fatalf("next deadline %v, want the rebalance timeout %v", got, want)
	}
	h.advance(4 * time.Second)
	h.mustSend(beatReq("m1", 1, parts(id, 0, 1)))
	h.tick()
	if h.g.members["m1"] == nil {
		t.Fatal("m1 removed before its rebalance timeout")
	}
	h.advance(time.Second)
	h.tick()
	if h.g.members["m1"] != nil {
		t.Fatal("m1 did not revoke within its rebalance timeout and is still a member")
	}
	if h.g.Epoch() != 3 {
		t.Fatalf("epoch %d, want 3", h.g.Epoch())
	}
	resp := h.mustSend(beatReq("m2", 2, parts()))
	if resp.MemberEpoch != 3 || fromResponse(resp.Assignment).size() != 2 {
		t.Fatalf("m2: epoch %d with %v; want 3 with both partitions", resp.MemberEpoch, resp.Assignment)
	}
	if resp := h.send(beatReq("m1", 1, parts(id, 0, 1))); resp.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("the fenced member heartbeats: %v, want UNKNOWN_MEMBER_ID", kerr.ErrorForCode(resp.ErrorCode))
	}
}

// Revoking in time stops the rebalance timeout.
func TestRebalanceTimeoutStopsOnRevocation(t *testing.T) {
	h := newHarness(t, Config{SessionTimeout: time.Minute}, map[string]int32{"t": 2})
	join := joinReq("m1", "t")
	join.RebalanceTimeoutMillis = 5000
	h.mustSend(join)
	h.mustSend(joinReq("m2", "t"))
	resp := h.mustSend(beatReq("m1", 1, parts(h.topics.id("t"), 0, 1)))
	h.advance(time.Second)
	h.mustSend(beatReq("m1", 1, fromResponse(resp.Assignment)))
	if !h.g.members["m1"].rebalanceDeadline.IsZero() {
		t.Fatal("the rebalance timeout still runs after the revocation")
	}
	h.advance(10 * time.Second)
	h.tick()
	if h.g.members["m1"] == nil {
		t.Fatal("m1 revoked in time but was removed")
	}
}

// Tick notices topics that change under the subscriptions.
func TestTickSeesTopicChanges(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"a": 2})
	c := h.newClient("m1", "a", "b")
	settle(t, 3, c)
	epoch := h.g.Epoch()

	h.tick()
	if h.g.Epoch() != epoch {
		t.Fatal("a tick with nothing new bumped the epoch")
	}

	h.topics.create("b", 1) // a subscribed topic appears
	h.tick()
	if h.g.Epoch() != epoch+1 {
		t.Fatalf("creating a subscribed topic: epoch %d, want %d", h.g.Epoch(), epoch+1)
	}
	settle(t, 3, c)
	if c.owned.size() != 3 {
		t.Fatalf("m1 owns %d partitions, want 3", c.owned.size())
	}

	h.topics.grow("a", 4) // partitions added
	h.tick()
	settle(t, 3, c)
	if c.owned.size() != 5 {
		t.Fatalf("after growing a, m1 owns %d partitions, want 5", c.owned.size())
	}

	h.topics.create("z", 9) // not subscribed: nothing happens
	epoch = h.g.Epoch()
	h.tick()
	if h.g.Epoch() != epoch {
		t.Fatal("an unsubscribed topic bumped the epoch")
	}

	h.topics.delete("a")
	h.tick()
	if h.g.Epoch() != epoch+1 {
		t.Fatal("deleting a subscribed topic did not bump the epoch")
	}
	settle(t, 3, c)
	if c.owned.size() != 1 {
		t.Fatalf("after deleting a, m1 owns %d partitions, want 1", c.owned.size())
	}

	// A topic deleted and created again under the same name is new.
	h.topics.delete("b")
	h.topics.create("b", 1)
	epoch = h.g.Epoch()
	h.tick()
	if h.g.Epoch() != epoch+1 {
		t.Fatal("recreating a topic did not bump the epoch")
	}
	settle(t, 3, c)
	if !c.owned.equal(parts(h.topics.id("b"), 0)) {
		t.Fatalf("m1 owns %v, want the new b's partition", c.owned.list())
	}
}
