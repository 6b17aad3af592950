package consumer

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// The revocation protocol step by step: m1 owns all six partitions, m2
// joins; m1 must give up three before m2 may have them.
func TestRevocationStepByStep(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 6})
	id := h.topics.id("t")

	resp := h.mustSend(joinReq("m1", "t"))
	all := parts(id, 0, 1, 2, 3, 4, 5)
	if !fromResponse(resp.Assignment).equal(all) {
		t.Fatalf("m1 got %v, want all six", fromResponse(resp.Assignment).list())
	}

	// m2 joins: epoch 2. Its target is three partitions m1 still owns, so
	// it gets nothing yet, at epoch 2, waiting for them.
	resp = h.mustSend(joinReq("m2", "t"))
	if resp.MemberEpoch != 2 || fromResponse(resp.Assignment).size() != 0 {
		t.Fatalf("m2 joined at epoch %d with %v; want epoch 2 and nothing", resp.MemberEpoch, fromResponse(resp.Assignment).list())
	}
	if s := h.g.members["m2"].state; s != unreleasedPartitions {
		t.Fatalf("m2 is %v, want UnreleasedPartitions", s)
	}
	if h.g.State() != StateReconciling {
		t.Fatalf("group is %s, want Reconciling", h.g.State())
	}
	m2Target := h.g.target["m2"]
	m1Keeps := all.minus(m2Target)

	// m1 heartbeats owning all six: it stays at epoch 1 and is told to
	// keep only its half.
	resp = h.mustSend(beatReq("m1", 1, all))
	if resp.MemberEpoch != 1 || !fromResponse(resp.Assignment).equal(m1Keeps) {
		t.Fatalf("m1: epoch %d with %v; want 1 with %v", resp.MemberEpoch, fromResponse(resp.Assignment).list(), m1Keeps.list())
	}
	if s := h.g.members["m1"].state; s != unrevokedPartitions {
		t.Fatalf("m1 is %v, want UnrevokedPartitions", s)
	}

	// Until m1 confirms, m2 still gets nothing.
	resp = h.mustSend(beatReq("m2", 2, parts()))
	if resp.Assignment != nil {
		t.Fatalf("m2 was given %v while m1 still revokes", fromResponse(resp.Assignment).list())
	}
	// m1 heartbeats again still owning all six: nothing moves.
	resp = h.mustSend(beatReq("m1", 1, all))
	if resp.MemberEpoch != 1 || resp.Assignment != nil {
		t.Fatalf("m1 still owning its old partitions: epoch %d, assignment %v", resp.MemberEpoch, resp.Assignment)
	}

	// m1 reports its half: it moves to epoch 2.
	resp = h.mustSend(beatReq("m1", 1, m1Keeps))
	if resp.MemberEpoch != 2 || resp.Assignment != nil {
		t.Fatalf("m1 after revoking: epoch %d, assignment %v; want 2 and unchanged", resp.MemberEpoch, resp.Assignment)
	}

	// Now m2 gets its half.
	resp = h.mustSend(beatReq("m2", 2, parts()))
	if !fromResponse(resp.Assignment).equal(m2Target) {
		t.Fatalf("m2 got %v, want %v", fromResponse(resp.Assignment).list(), m2Target.list())
	}
	if h.g.State() != StateStable {
		t.Fatalf("group is %s, want Stable", h.g.State())
	}
}

// A member that says what it owns by leaving the field null cannot be
// seen to have revoked.
func TestRevocationNeedsOwnedPartitions(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 2})
	id := h.topics.id("t")
	h.mustSend(joinReq("m1", "t"))
	h.mustSend(joinReq("m2", "t"))
	h.mustSend(beatReq("m1", 1, parts(id, 0, 1)))
	resp := h.mustSend(beatReq("m1", 1, nil))
	if resp.MemberEpoch != 1 || h.g.members["m1"].state != unrevokedPartitions {
		t.Fatalf("m1 moved on without saying what it owns: epoch %d, %v", resp.MemberEpoch, h.g.members["m1"].state)
	}
}

// Two members, then three, with clients that follow the protocol: at no
// step do two clients own a partition, and once settled every partition
// is owned, split as evenly as possible.
func TestIncrementalRebalanceTwoThenThree(t *testing.T) {
	for _, assignor := range []string{UniformAssignor, RangeAssignor} {
		t.Run(assignor, func(t *testing.T) {
			h := newHarness(t, Config{Assignors: []string{assignor}}, map[string]int32{"a": 5, "b": 3})
			c1 := h.newClient("m1", "a", "b")
			c1.beat()
			if c1.owned.size() != 8 {
				t.Fatalf("the only member owns %d partitions, want 8", c1.owned.size())
			}

			// uniform balances the members' totals; range balances each
			// topic.
			balanced := func(clients ...*client) {
				t.Helper()
				if totalOwned(clients...) != 8 {
					t.Fatalf("%d members own %d of 8 partitions", len(clients), totalOwned(clients...))
				}
				spread := func(count func(*client) int) bool {
					lo, hi := count(clients[0]), count(clients[0])
					for _, c := range clients {
						lo, hi = min(lo, count(c)), max(hi, count(c))
					}
					return hi-lo <= 1
				}
				ok := spread(func(c *client) int { return c.owned.size() })
				if assignor == RangeAssignor {
					ok = spread(func(c *client) int { return len(c.owned[h.topics.id("a")]) }) &&
						spread(func(c *client) int { return len(c.owned[h.topics.id("b")]) })
				}
				if !ok {
					for _, c := range clients {
						t.Logf("%s owns %v", c.id, c.owned.list())
					}
					t.Fatal("unbalanced")
				}
				for _, c := range clients {
					if c.epoch != h.g.Epoch() {
						t.Fatalf("%s is at epoch %d, the group at %d", c.id, c.epoch, h.g.Epoch())
					}
				}
			}

			c2 := h.newClient("m2", "a", "b")
			settle(t, 5, c1, c2)
			balanced(c1, c2)

			c3 := h.newClient("m3", "a", "b")
			settle(t, 5, c1, c2, c3)
			balanced(c1, c2, c3)

			c2.leave()
			settle(t, 5, c1, c3)
			balanced(c1, c3)
		})
	}
}

// A member whose response was lost comes back at its previous epoch. It is
// taken back if what it owns is part of its assignment, else fenced.
func TestLostResponse(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 4})
	id := h.topics.id("t")
	h.mustSend(joinReq("m1", "t"))
	h.mustSend(joinReq("m2", "t")) // epoch 2; m1 must give up two

	resp := h.mustSend(beatReq("m1", 1, parts(id, 0, 1, 2, 3)))
	keeps := fromResponse(resp.Assignment)
	resp = h.mustSend(beatReq("m1", 1, keeps)) // moves m1 to epoch 2; say this response is lost
	if resp.MemberEpoch != 2 {
		t.Fatalf("m1 at %d, want 2", resp.MemberEpoch)
	}

	// m1 repeats itself at epoch 1: accepted, and sent its assignment.
	resp = h.send(beatReq("m1", 1, keeps))
	if resp.ErrorCode != 0 || resp.MemberEpoch != 2 || resp.Assignment == nil {
		t.Fatalf("repeat at the previous epoch: %v, epoch %d, assignment %v", kerr.ErrorForCode(resp.ErrorCode), resp.MemberEpoch, resp.Assignment)
	}

	for _, tc := range []struct {
		name  string
		epoch int32
		owned assignment
	}{
		{"previous epoch owning more", 1, parts(id, 0, 1, 2, 3)},
		{"previous epoch, owned unknown", 1, nil},
		{"epoch ahead", 3, keeps},
	} {
		resp := h.send(beatReq("m1", tc.epoch, tc.owned))
		if resp.ErrorCode != kerr.FencedMemberEpoch.Code {
			t.Errorf("%s: %v, want FENCED_MEMBER_EPOCH", tc.name, kerr.ErrorForCode(resp.ErrorCode))
		}
	}

	// Two epochs on, the epoch before the previous one is fenced.
	sub := beatReq("m2", 2, nil)
	sub.SubscribedTopicNames = []string{"t", "u"}
	h.mustSend(sub) // epoch 3
	if resp := h.mustSend(beatReq("m1", 2, keeps)); resp.MemberEpoch != 3 {
		t.Fatalf("m1 at %d, want 3", resp.MemberEpoch)
	}
	if resp := h.send(beatReq("m1", 1, keeps)); resp.ErrorCode != kerr.FencedMemberEpoch.Code {
		t.Errorf("epoch older than the previous: %v, want FENCED_MEMBER_EPOCH", kerr.ErrorForCode(resp.ErrorCode))
	}
}

// A member that is fenced for a wrong epoch still holds its partitions
// until it rejoins, and then gets them back.
func TestFencedMemberRejoins(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 3})
	c := h.newClient("m1", "t")
	c.beat()
	c.epoch = 7 // a confused client
	if c.beat(); c.lastCode != kerr.FencedMemberEpoch.Code {
		t.Fatalf("wrong epoch: %v", kerr.ErrorForCode(c.lastCode))
	}
	c.beat() // rejoins with epoch 0 and the same member id
	if c.lastCode != 0 || c.owned.size() != 3 || c.epoch != 1 {
		t.Fatalf("rejoin: %v, %d partitions at epoch %d", kerr.ErrorForCode(c.lastCode), c.owned.size(), c.epoch)
	}
}

// A member that was told to give partitions up but reports the ones it
// keeps (a subset of its old assignment) skips the revocation step.
func TestRevocationAlreadyDone(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 2})
	h.mustSend(joinReq("m1", "t"))
	h.mustSend(joinReq("m2", "t"))
	keeps := h.g.target["m1"]
	resp := h.mustSend(beatReq("m1", 1, keeps))
	if resp.MemberEpoch != 2 || !fromResponse(resp.Assignment).equal(keeps) {
		t.Fatalf("m1 owning only its target: epoch %d with %v", resp.MemberEpoch, resp.Assignment)
	}
	if h.g.members["m1"].state != stable || !h.g.members["m1"].assigned.equal(keeps) {
		t.Fatalf("m1 is %v owning %v", h.g.members["m1"].state, h.g.members["m1"].assigned.list())
	}
}
