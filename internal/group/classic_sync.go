package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup serves a SyncGroup request. reply is called once: at once in
// a stable group or on an error, or when the leader's assignment arrives.
func (c *Coordinator) SyncGroup(now time.Time, req *kmsg.SyncGroupRequest, reply func(*kmsg.SyncGroupResponse)) {
	c.lock()
	defer c.unlock()
	fail := func(code int16) {
		resp := syncResponse(req)
		resp.ErrorCode = code
		c.later(func() { reply(resp) })
	}
	if req.Group == "" || len(req.Group) > maxGroupIDBytes {
		fail(kerr.InvalidGroupID.Code)
		return
	}
	e := c.group(req.Group)
	if e == nil || e.classic == nil {
		fail(kerr.UnknownMemberID.Code)
		return
	}
	g := e.classic
	defer c.settle(e)
	m := g.members[req.MemberID]
	switch {
	case g.fencedInstance(req.InstanceID, req.MemberID):
		fail(kerr.FencedInstanceID.Code)
		return
	case m == nil:
		fail(kerr.UnknownMemberID.Code)
		return
	case req.Generation != g.generation:
		fail(kerr.IllegalGeneration.Code)
		return
	case req.ProtocolType != nil && *req.ProtocolType != g.protocolType,
		req.Protocol != nil && *req.Protocol != g.protocol:
		fail(kerr.InconsistentGroupProtocol.Code)
		return
	}
	switch g.state {
	case statePreparingRebalance:
		fail(kerr.RebalanceInProgress.Code)
	case stateCompletingRebalance:
		if old := m.sync; old != nil {
			// A second SyncGroup while the first waits: the first is
			// superseded, as a second JoinGroup supersedes the first.
			c.later(func() {
				resp := syncResponse(old.req)
				resp.ErrorCode = kerr.RebalanceInProgress.Code
				old.reply(resp)
			})
		}
		m.sync = &waitingSync{req: req, reply: reply}
		m.synced = true
		m.expires = now.Add(m.sessionTimeout)
		if m.id != g.leader {
			return
		}
		for _, mm := range g.members {
			mm.assignment = nil
		}
		for _, a := range req.GroupAssignment {
			if mm := g.members[a.MemberID]; mm != nil {
				mm.assignment = a.MemberAssignment
			}
		}
		g.state = stateStable
		for _, mm := range g.members {
			if mm.sync != nil {
				c.answerSync(g, mm)
			}
		}
	case stateStable:
		m.sync = &waitingSync{req: req, reply: reply}
		m.synced = true
		m.expires = now.Add(m.sessionTimeout)
		c.answerSync(g, m)
	default:
		fail(kerr.UnknownMemberID.Code)
	}
}

// answerSync answers m's waiting SyncGroup with its assignment.
func (c *Coordinator) answerSync(g *classicGroup, m *classicMember) {
	s := m.sync
	m.sync = nil
	resp := syncResponse(s.req)
	resp.ProtocolType = kmsg.StringPtr(g.protocolType)
	resp.Protocol = kmsg.StringPtr(g.protocol)
	resp.MemberAssignment = m.assignment
	c.later(func() { s.reply(resp) })
}

// Heartbeat serves a Heartbeat request: it keeps the member's session
// and tells it when a rebalance needs it to rejoin.
func (c *Coordinator) Heartbeat(now time.Time, req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	if req.Group == "" || len(req.Group) > maxGroupIDBytes {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	e := c.group(req.Group)
	if e == nil || e.classic == nil {
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp
	}
	g := e.classic
	m := g.members[req.MemberID]
	switch {
	case g.fencedInstance(req.InstanceID, req.MemberID):
		resp.ErrorCode = kerr.FencedInstanceID.Code
	case m == nil:
		resp.ErrorCode = kerr.UnknownMemberID.Code
	case req.Generation != g.generation:
		resp.ErrorCode = kerr.IllegalGeneration.Code
	case g.state == statePreparingRebalance:
		m.expires = now.Add(m.sessionTimeout)
		resp.ErrorCode = kerr.RebalanceInProgress.Code
	case g.state == stateEmpty:
		resp.ErrorCode = kerr.UnknownMemberID.Code
	default:
		m.expires = now.Add(m.sessionTimeout)
	}
	return resp
}

// LeaveGroup serves a LeaveGroup request: one member (v0-2) or a batch,
// by member id or by group.instance.id (v3+).
func (c *Coordinator) LeaveGroup(now time.Time, req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	leaving := req.Members
	if req.Version < 3 {
		leaving = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	codes := make([]int16, len(leaving))
	e := c.group(req.Group)
	switch {
	case req.Group == "" || len(req.Group) > maxGroupIDBytes:
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	case e == nil || e.classic == nil:
		for i := range codes {
			codes[i] = kerr.UnknownMemberID.Code
		}
	default:
		g := e.classic
		removed := false
		for i, l := range leaving {
			codes[i] = c.leave(g, l)
			removed = removed || codes[i] == 0
		}
		if removed {
			c.membersLeft(g, now)
		}
		c.settle(e)
	}
	if req.Version < 3 {
		resp.ErrorCode = codes[0]
		return resp
	}
	for i, l := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID, rm.ErrorCode = l.MemberID, l.InstanceID, codes[i]
		resp.Members = append(resp.Members, rm)
	}
	return resp
}

// leave removes one leaving member and returns its error code.
func (c *Coordinator) leave(g *classicGroup, l kmsg.LeaveGroupRequestMember) int16 {
	id := l.MemberID
	if l.InstanceID != nil && *l.InstanceID != "" {
		owner, ok := g.instances[*l.InstanceID]
		switch {
		case !ok:
			return kerr.UnknownMemberID.Code
		case id != "" && id != owner:
			return kerr.FencedInstanceID.Code
		}
		id = owner
	}
	if _, ok := g.pending[id]; ok {
		delete(g.pending, id)
		return 0
	}
	m := g.members[id]
	if m == nil {
		return kerr.UnknownMemberID.Code
	}
	c.removeMember(g, m)
	return 0
}

// tickClassic expires what is due in a classic group: unused member ids,
// members whose session ended, the join phase and the wait for SyncGroup.
func (c *Coordinator) tickClassic(e *entry, now time.Time) {
	g := e.classic
	for id, until := range g.pending {
		if !now.Before(until) {
			delete(g.pending, id)
		}
	}
	removed := false
	for _, m := range g.members {
		// A member waiting in a rebalance has no session to keep: the
		// join phase's deadline bounds its wait instead.
		if m.join == nil && !now.Before(m.expires) {
			c.removeMember(g, m)
			removed = true
		}
	}
	switch {
	case g.state == statePreparingRebalance && !now.Before(g.joinDeadline):
		c.completeJoin(g, now)
	case g.state == stateCompletingRebalance && !now.Before(g.syncDeadline):
		// Members that did not ask for their assignment in time are
		// gone (Kafka's pending-sync timeout).
		for _, m := range g.members {
			if !m.synced {
				c.removeMember(g, m)
				removed = true
			}
		}
		if removed {
			c.prepareRebalance(g, now)
		}
	case removed:
		c.membersLeft(g, now)
	default:
		c.tryCompleteJoin(g, now)
	}
}

// syncResponse returns a response of the request's version.
func syncResponse(req *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	return req.ResponseKind().(*kmsg.SyncGroupResponse)
}
