package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// stableGroup brings a group of n dynamic members to Stable and returns
// their ids (the leader first) and the generation.
func stableGroup(t *testing.T, h *harness, group string, n int) ([]string, int32) {
	t.Helper()
	joins := make([]*reply[*kmsg.JoinGroupResponse], n)
	for i := range joins {
		joins[i] = h.member(group)
	}
	if joins[0].done() {
		t.Fatal("the first rebalance of an empty group did not wait the initial delay")
	}
	h.advance(testDelay)
	var leader string
	ids := make([]string, n)
	for i, j := range joins {
		if !j.done() || j.resp.ErrorCode != 0 {
			t.Fatalf("join %d: done %v, %+v", i, j.done(), j.resp)
		}
		ids[i] = j.resp.MemberID
		leader = j.resp.LeaderID
	}
	gen := joins[0].resp.Generation
	assign := map[string]string{}
	var syncs []*reply[*kmsg.SyncGroupResponse]
	for _, id := range ids {
		assign[id] = "for " + id
		if id != leader {
			syncs = append(syncs, h.sync(group, id, gen, nil))
		}
	}
	for _, s := range syncs {
		if s.done() {
			t.Fatal("a follower's sync returned before the leader's")
		}
	}
	syncs = append(syncs, h.sync(group, leader, gen, assign))
	for _, s := range syncs {
		if !s.done() || s.resp.ErrorCode != 0 || string(s.resp.MemberAssignment) == "" {
			t.Fatalf("sync: %+v", s.resp)
		}
	}
	order := []string{leader}
	for _, id := range ids {
		if id != leader {
			order = append(order, id)
		}
	}
	if s := h.c.Summaries()[0]; s.State != "Stable" || s.Members != n {
		t.Fatalf("summary %+v", s)
	}
	return order, gen
}

func TestJoinSyncHeartbeat(t *testing.T) {
	h := newHarness(t)
	ids, gen := stableGroup(t, h, "g", 3)
	if gen != 1 {
		t.Errorf("generation %d, want 1", gen)
	}
	for _, id := range ids {
		if code := h.heartbeat("g", id, gen); code != 0 {
			t.Errorf("heartbeat of %s: %v", id, kerr.ErrorForCode(code))
		}
	}
	if code := h.heartbeat("g", ids[1], gen-1); code != kerr.IllegalGeneration.Code {
		t.Errorf("stale generation: %v", kerr.ErrorForCode(code))
	}
	if code := h.heartbeat("g", "nobody", gen); code != kerr.UnknownMemberID.Code {
		t.Errorf("unknown member: %v", kerr.ErrorForCode(code))
	}
	// A stable follower asking again gets its assignment at once.
	if s := h.sync("g", ids[1], gen, nil); !s.done() || string(s.resp.MemberAssignment) != "for "+ids[1] {
		t.Errorf("sync again: %+v", s.resp)
	}
}

func TestNewMemberRebalancesTheGroup(t *testing.T) {
	h := newHarness(t)
	ids, gen := stableGroup(t, h, "g", 2)
	newcomer := h.member("g")
	if newcomer.done() {
		t.Fatal("the newcomer's join completed before the others rejoined")
	}
	for _, id := range ids {
		if code := h.heartbeat("g", id, gen); code != kerr.RebalanceInProgress.Code {
			t.Fatalf("heartbeat during the rebalance: %v", kerr.ErrorForCode(code))
		}
	}
	// Members may commit in the generation they have while it rebalances
	// (eager consumers commit before rejoining).
	if codes := h.commit(9, "g", ids[0], gen, map[int32]int64{0: 5}); codes[0] != 0 {
		t.Fatalf("commit while preparing: %v", kerr.ErrorForCode(codes[0]))
	}
	r0 := h.join(joinReq(9, "g", ids[0], ""))
	if r0.done() {
		t.Fatal("completed with a member missing")
	}
	r1 := h.join(joinReq(9, "g", ids[1], ""))
	for _, r := range []*reply[*kmsg.JoinGroupResponse]{newcomer, r0, r1} {
		if !r.done() || r.resp.ErrorCode != 0 || r.resp.Generation != gen+1 {
			t.Fatalf("rejoin: %+v", r.resp)
		}
	}
	if r0.resp.LeaderID != ids[0] || len(r0.resp.Members) != 3 || len(r1.resp.Members) != 0 {
		t.Errorf("leader %s (want %s kept), members to leader %d, to follower %d", r0.resp.LeaderID, ids[0], len(r0.resp.Members), len(r1.resp.Members))
	}
	if codes := h.commit(9, "g", ids[0], gen+1, map[int32]int64{0: 6}); codes[0] != kerr.RebalanceInProgress.Code {
		t.Errorf("commit before the sync: %v", kerr.ErrorForCode(codes[0]))
	}
}

func TestMemberThatDoesNotRejoinIsRemoved(t *testing.T) {
	h := newHarness(t)
	ids, gen := stableGroup(t, h, "g", 2)
	r0 := h.join(joinReq(9, "g", ids[0], "")) // the leader rejoins: rebalance
	// ids[1] keeps heartbeating but never rejoins.
	for elapsed := time.Duration(0); elapsed < testRebalance-time.Second; elapsed += time.Second {
		h.advance(time.Second)
		if code := h.heartbeat("g", ids[1], gen); code != kerr.RebalanceInProgress.Code {
			t.Fatalf("heartbeat: %v", kerr.ErrorForCode(code))
		}
	}
	if r0.done() {
		t.Fatal("completed before the rebalance timeout")
	}
	h.advance(2 * time.Second)
	if !r0.done() || r0.resp.Generation != gen+1 || len(r0.resp.Members) != 1 {
		t.Fatalf("after the rebalance timeout: %+v", r0.resp)
	}
	if code := h.heartbeat("g", ids[1], gen); code != kerr.UnknownMemberID.Code {
		t.Errorf("the removed member's heartbeat: %v", kerr.ErrorForCode(code))
	}
}

func TestSessionTimeout(t *testing.T) {
	h := newHarness(t)
	ids, gen := stableGroup(t, h, "g", 2)
	for range 9 {
		h.advance(time.Second)
		if code := h.heartbeat("g", ids[0], gen); code != 0 {
			t.Fatalf("heartbeat: %v", kerr.ErrorForCode(code))
		}
	}
	h.advance(2 * time.Second) // ids[1] has been silent for 11 s
	if code := h.heartbeat("g", ids[0], gen); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("after the session timeout of the other: %v", kerr.ErrorForCode(code))
	}
	r := h.join(joinReq(9, "g", ids[0], ""))
	if !r.done() || r.resp.Generation != gen+1 || len(r.resp.Members) != 1 {
		t.Fatalf("rejoin alone: %+v", r.resp)
	}
	if s := h.c.Summaries()[0]; s.Members != 1 || s.Rebalances != 2 {
		t.Errorf("summary %+v", s)
	}
}

func TestLeaveGroup(t *testing.T) {
	h := newHarness(t)
	ids, gen := stableGroup(t, h, "g", 3)
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Version, req.Group = 5, "g"
	req.Members = []kmsg.LeaveGroupRequestMember{{MemberID: ids[1]}, {MemberID: ids[2]}, {MemberID: "nobody"}}
	resp := h.c.LeaveGroup(h.now, req)
	want := []int16{0, 0, kerr.UnknownMemberID.Code}
	for i, m := range resp.Members {
		if m.ErrorCode != want[i] {
			t.Errorf("leave %s: %v", m.MemberID, kerr.ErrorForCode(m.ErrorCode))
		}
	}
	r := h.join(joinReq(9, "g", ids[0], ""))
	if !r.done() || r.resp.Generation != gen+1 || len(r.resp.Members) != 1 {
		t.Fatalf("rejoin: %+v", r.resp)
	}
	// The last member leaving empties the group; its offsets stay.
	h.commit(9, "g", ids[0], gen+1, map[int32]int64{1: 7})
	h.sync("g", ids[0], gen+1, map[string]string{ids[0]: "x"})
	h.commit(9, "g", ids[0], gen+1, map[int32]int64{1: 7})
	old := kmsg.NewPtrLeaveGroupRequest()
	old.Version, old.Group, old.MemberID = 1, "g", ids[0]
	if resp := h.c.LeaveGroup(h.now, old); resp.ErrorCode != 0 {
		t.Fatalf("v1 leave: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	if s := h.c.Summaries()[0]; s.State != "Empty" || s.Members != 0 || len(s.Offsets) != 1 || s.Offsets[0].Offset != 7 {
		t.Errorf("after the last left: %+v", s)
	}
	if resp := h.c.LeaveGroup(h.now, old); resp.ErrorCode != kerr.UnknownMemberID.Code {
		t.Errorf("leaving twice: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
}

func TestStaticMemberRejoinsWithoutRebalance(t *testing.T) {
	h := newHarness(t)
	a := h.join(joinReq(9, "g", "", "instance-a"))
	b := h.join(joinReq(9, "g", "", "instance-b"))
	h.advance(testDelay)
	if !a.done() || !b.done() || a.resp.ErrorCode != 0 {
		t.Fatalf("static joins: %+v %+v", a.resp, b.resp)
	}
	gen, leader := a.resp.Generation, a.resp.LeaderID
	follower, followerInstance := b.resp.MemberID, "instance-b"
	if leader == follower {
		follower, followerInstance = a.resp.MemberID, "instance-a"
	}
	h.sync("g", follower, gen, nil)
	h.sync("g", leader, gen, map[string]string{leader: "L", follower: "F"})

	// The follower restarts: it joins with its instance id and no member
	// id, within the session timeout.
	h.advance(5 * time.Second)
	h.heartbeat("g", leader, gen)
	again := h.join(joinReq(9, "g", "", followerInstance))
	if !again.done() || again.resp.ErrorCode != 0 || again.resp.Generation != gen || again.resp.MemberID == follower {
		t.Fatalf("static rejoin: %+v", again.resp)
	}
	if code := h.heartbeat("g", leader, gen); code != 0 {
		t.Errorf("the leader saw a rebalance: %v", kerr.ErrorForCode(code))
	}
	if s := h.sync("g", again.resp.MemberID, gen, nil); !s.done() || string(s.resp.MemberAssignment) != "F" {
		t.Errorf("the restarted member's assignment: %+v", s.resp)
	}
	// The old incarnation is fenced.
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version, req.Group, req.MemberID, req.Generation, req.InstanceID = 4, "g", follower, gen, kmsg.StringPtr(followerInstance)
	if code := h.c.Heartbeat(h.now, req).ErrorCode; code != kerr.FencedInstanceID.Code {
		t.Errorf("the old incarnation: %v", kerr.ErrorForCode(code))
	}
	if s := h.c.Summaries()[0]; s.Rebalances != 1 {
		t.Errorf("rebalances %d, want 1", s.Rebalances)
	}
}

func TestJoinErrors(t *testing.T) {
	h := newHarness(t)
	ids, _ := stableGroup(t, h, "g", 1)
	long := make([]byte, maxGroupIDBytes+1)
	for i := range long {
		long[i] = 'x'
	}
	tests := []struct {
		name string
		req  func() *kmsg.JoinGroupRequest
		want int16
	}{
		{"empty group id", func() *kmsg.JoinGroupRequest { return joinReq(9, "", "", "") }, kerr.InvalidGroupID.Code},
		{"too long group id", func() *kmsg.JoinGroupRequest { return joinReq(9, string(long), "", "") }, kerr.InvalidGroupID.Code},
		{"session too short", func() *kmsg.JoinGroupRequest {
			r := joinReq(9, "h", "", "")
			r.SessionTimeoutMillis = 10
			return r
		}, kerr.InvalidSessionTimeout.Code},
		{"no protocols", func() *kmsg.JoinGroupRequest {
			r := joinReq(9, "h", "", "")
			r.Protocols = nil
			return r
		}, kerr.InconsistentGroupProtocol.Code},
		{"no common protocol", func() *kmsg.JoinGroupRequest { return joinReq(9, "g", "", "", "roundrobin") }, kerr.InconsistentGroupProtocol.Code},
		{"other protocol type", func() *kmsg.JoinGroupRequest {
			r := joinReq(9, "g", "", "")
			r.ProtocolType = "connect"
			return r
		}, kerr.InconsistentGroupProtocol.Code},
		{"unknown member", func() *kmsg.JoinGroupRequest { return joinReq(9, "g", "made-up", "") }, kerr.UnknownMemberID.Code},
		{"unknown member of unknown group", func() *kmsg.JoinGroupRequest { return joinReq(9, "new", "made-up", "") }, kerr.UnknownMemberID.Code},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.join(tt.req())
			if !r.done() || r.resp.ErrorCode != tt.want {
				t.Errorf("got %+v, want %v", r.resp, kerr.ErrorForCode(tt.want))
			}
		})
	}
	// None of it touched g.
	if code := h.heartbeat("g", ids[0], 1); code != 0 {
		t.Errorf("g after the bad joins: %v", kerr.ErrorForCode(code))
	}
}

func TestMaxSize(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxSize = 1 })
	h.member("g")
	r := h.join(joinReq(9, "g", "", ""))
	if !r.done() || r.resp.ErrorCode != kerr.GroupMaxSizeReached.Code {
		t.Errorf("second member: %+v", r.resp)
	}
}

func TestOldJoinVersionsNeedNoMemberID(t *testing.T) {
	h := newHarness(t)
	r := h.join(joinReq(0, "g", "", ""))
	if r.done() {
		t.Fatalf("v0 join answered at once: %+v", r.resp)
	}
	h.advance(testDelay)
	if !r.done() || r.resp.ErrorCode != 0 || r.resp.MemberID == "" || r.resp.LeaderID != r.resp.MemberID {
		t.Fatalf("v0 join: %+v", r.resp)
	}
}

func TestUnusedMemberIDLapses(t *testing.T) {
	h := newHarness(t)
	first := h.join(joinReq(9, "g", "", ""))
	h.advance(testSession + time.Second)
	late := h.join(joinReq(9, "g", first.resp.MemberID, ""))
	if !late.done() || late.resp.ErrorCode != kerr.UnknownMemberID.Code {
		t.Errorf("join with a lapsed member id: %+v", late.resp)
	}
	if len(h.c.Summaries()) != 0 {
		t.Errorf("groups left behind: %+v", h.c.Summaries())
	}
}

func TestLeaderNeverSyncs(t *testing.T) {
	h := newHarness(t)
	a, b := h.member("g"), h.member("g")
	h.advance(testDelay)
	follower := b.resp.MemberID
	if follower == a.resp.LeaderID {
		follower = a.resp.MemberID
	}
	s := h.sync("g", follower, 1, nil)
	for range 3 { // the follower keeps its session; the leader is silent
		h.advance(4 * time.Second)
		h.heartbeat("g", follower, 1)
	}
	if !s.done() || s.resp.ErrorCode != kerr.RebalanceInProgress.Code {
		t.Fatalf("the follower's sync once the leader timed out: %+v", s.resp)
	}
	if got := h.c.Summaries()[0]; got.Members != 1 || got.State != "PreparingRebalance" {
		t.Errorf("summary %+v", got)
	}
}

func TestDescribeAndListGroups(t *testing.T) {
	h := newHarness(t)
	ids, _ := stableGroup(t, h, "g", 2)
	h.commit(1, "simple", "", -1, map[int32]int64{0: 1})

	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Version, req.Groups = 5, []string{"g", "simple", "unknown"}
	resp := h.c.DescribeGroups(req)
	g := resp.Groups[0]
	if g.State != "Stable" || g.ProtocolType != "consumer" || g.Protocol != "range" || len(g.Members) != 2 {
		t.Errorf("g: %+v", g)
	}
	if g.Members[0].MemberID != ids[0] || g.Members[0].ClientHost != "/127.0.0.1" || string(g.Members[0].MemberAssignment) != "for "+ids[0] {
		t.Errorf("g's first member: %+v", g.Members[0])
	}
	if s := resp.Groups[1]; s.State != "Empty" || s.ProtocolType != "" || s.ErrorCode != 0 {
		t.Errorf("simple: %+v", s)
	}
	if u := resp.Groups[2]; u.State != "Dead" || u.ErrorCode != 0 {
		t.Errorf("unknown: %+v", u)
	}

	list := func(states, types []string) []string {
		req := kmsg.NewPtrListGroupsRequest()
		req.Version, req.StatesFilter, req.TypesFilter = 5, states, types
		var out []string
		for _, g := range h.c.ListGroups(req).Groups {
			out = append(out, g.Group+":"+g.GroupState+":"+g.GroupType)
		}
		return out
	}
	for _, tt := range []struct {
		states, types []string
		want          string
	}{
		{nil, nil, "[g:Stable:classic simple:Empty:classic]"},
		{[]string{"stable"}, nil, "[g:Stable:classic]"},
		{[]string{"Empty"}, []string{"CLASSIC"}, "[simple:Empty:classic]"},
		{nil, []string{"consumer"}, "[]"},
	} {
		if got := fmtList(list(tt.states, tt.types)); got != tt.want {
			t.Errorf("list %v %v: %s, want %s", tt.states, tt.types, got, tt.want)
		}
	}
}

func fmtList(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out + "]"
}
