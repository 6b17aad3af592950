package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup serves a JoinGroup request from client. reply is called once,
// with the response: at once for an error, a MEMBER_ID_REQUIRED or a
// rejoin that needs no rebalance, otherwise when the rebalance completes
// (Tick or another member's request completes it).
func (c *Coordinator) JoinGroup(now time.Time, client Client, req *kmsg.JoinGroupRequest, reply func(*kmsg.JoinGroupResponse)) {
	c.lock()
	defer c.unlock()
	fail := func(code int16) {
		resp := joinResponse(req)
		resp.ErrorCode, resp.MemberID = code, req.MemberID
		c.later(func() { reply(resp) })
	}
	session := millis(req.SessionTimeoutMillis)
	rebalance := millis(req.RebalanceTimeoutMillis)
	if req.Version == 0 {
		rebalance = session
	}
	switch {
	case req.Group == "" || len(req.Group) > maxGroupIDBytes:
		fail(kerr.InvalidGroupID.Code)
		return
	case session < c.cfg.MinSessionTimeout || session > c.cfg.MaxSessionTimeout:
		fail(kerr.InvalidSessionTimeout.Code)
		return
	case req.ProtocolType == "" || len(req.Protocols) == 0 || rebalance <= 0:
		fail(kerr.InconsistentGroupProtocol.Code)
		return
	}
	e := c.group(req.Group)
	if e != nil && e.consumer != nil {
		if e.consumer.Len() > 0 {
			fail(kerr.InconsistentGroupProtocol.Code)
			return
		}
		// An empty consumer group becomes classic, keeping its offsets.
		e.consumer.Delete()
		e.consumer = nil
	}
	e = c.getOrCreate(req.Group)
	if e.classic == nil {
		e.classic = newClassicGroup(now)
	}
	g := e.classic
	defer c.settle(e)
	if !g.supports(req.MemberID, req.ProtocolType, req.Protocols) {
		fail(kerr.InconsistentGroupProtocol.Code)
		return
	}
	w := &waitingJoin{req: req, reply: reply}
	if req.MemberID == "" {
		c.joinNewMember(g, now, client, w, session, rebalance, fail)
		return
	}
	if _, ok := g.pending[req.MemberID]; ok {
		delete(g.pending, req.MemberID)
		m := c.newMember(g, req.MemberID, client, req, session, rebalance)
		c.addMember(g, now, m, w)
		return
	}
	m := g.members[req.MemberID]
	switch {
	case g.fencedInstance(req.InstanceID, req.MemberID):
		fail(kerr.FencedInstanceID.Code)
		return
	case m == nil:
		fail(kerr.UnknownMemberID.Code)
		return
	}
	c.rejoin(g, now, client, m, w, session, rebalance)
}

// joinNewMember admits a member that has no member id yet.
func (c *Coordinator) joinNewMember(g *classicGroup, now time.Time, client Client, w *waitingJoin, session, rebalance time.Duration, fail func(int16)) {
	req := w.req
	static := req.InstanceID != nil && *req.InstanceID != ""
	if c.cfg.MaxSize > 0 && len(g.members)+len(g.pending) >= c.cfg.MaxSize {
		if !static || g.instances[*req.InstanceID] == "" {
			fail(kerr.GroupMaxSizeReached.Code)
			return
		}
	}
	prefix := client.ID
	if static {
		prefix = *req.InstanceID
	}
	id := prefix + "-" + c.cfg.NewID()
	switch {
	case static && g.instances[*req.InstanceID] != "":
		c.replaceStatic(g, now, client, g.members[g.instances[*req.InstanceID]], id, w, session, rebalance)
	case !static && req.Version >= 4:
		// KIP-394: the member must come back with the id, so that a
		// client that never gets this response leaves no member behind.
		g.pending[id] = now.Add(session)
		resp := joinResponse(req)
		resp.ErrorCode, resp.MemberID = kerr.MemberIDRequired.Code, id
		c.later(func() { w.reply(resp) })
	default:
		c.addMember(g, now, c.newMember(g, id, client, req, session, rebalance), w)
	}
}

// newMember returns a member made from a join request.
func (c *Coordinator) newMember(g *classicGroup, id string, client Client, req *kmsg.JoinGroupRequest, session, rebalance time.Duration) *classicMember {
	g.joins++
	m := &classicMember{
		id: id, clientID: client.ID, host: client.Host,
		protocols: req.Protocols, sessionTimeout: session, rebalanceTimeout: rebalance,
		order: g.joins,
	}
	if req.InstanceID != nil {
		m.instanceID = *req.InstanceID
	}
	return m
}

// addMember adds m to the group, waiting in a rebalance it starts or joins.
func (c *Coordinator) addMember(g *classicGroup, now time.Time, m *classicMember, w *waitingJoin) {
	if len(g.members) == 0 {
		g.protocolType = w.req.ProtocolType
	}
	g.members[m.id] = m
	if m.instanceID != "" {
		g.instances[m.instanceID] = m.id
	}
	m.join = w
	switch g.state {
	case statePreparingRebalance:
		if g.delayed {
			// Each join in the initial delay buys the others time, up
			// to the rebalance timeout.
			g.joinDeadline = minTime(now.Add(c.cfg.InitialRebalanceDelay), g.delayLimit)
		}
		c.tryCompleteJoin(g, now)
	default:
		c.prepareRebalance(g, now)
	}
}

// rejoin serves a JoinGroup of a known member.
func (c *Coordinator) rejoin(g *classicGroup, now time.Time, client Client, m *classicMember, w *waitingJoin, session, rebalance time.Duration) {
	changed := !sameProtocols(m.protocols, w.req.Protocols)
	m.protocols, m.sessionTimeout, m.rebalanceTimeout = w.req.Protocols, session, rebalance
	m.clientID, m.host = client.ID, client.Host
	switch g.state {
	case statePreparingRebalance:
		if m.join != nil {
			// A second join while the first waits: the first is
			// superseded.
			old := m.join
			c.later(func() {
				resp := joinResponse(old.req)
				resp.ErrorCode, resp.MemberID = kerr.RebalanceInProgress.Code, m.id
				old.reply(resp)
			})
		}
		m.join = w
		c.tryCompleteJoin(g, now)
	case stateCompletingRebalance:
		if changed {
			m.join = w
			c.prepareRebalance(g, now)
			return
		}
		// The same member joining again in the same generation (its
		// response was lost): tell it the generation again.
		c.answerJoin(g, m, w, false)
		m.expires = now.Add(m.sessionTimeout)
	case stateStable:
		if changed || m.id == g.leader {
			// The leader rejoins to have the group reassigned (its
			// metadata changed, say).
			m.join = w
			c.prepareRebalance(g, now)
			return
		}
		c.answerJoin(g, m, w, false)
		m.expires = now.Add(m.sessionTimeout)
	default:
		resp := joinResponse(w.req)
		resp.ErrorCode, resp.MemberID = kerr.UnknownMemberID.Code, m.id
		c.later(func() { w.reply(resp) })
	}
}

// replaceStatic gives a static member's place, assignment included, to
// the new member id that joined with the same group.instance.id; the old
// id is fenced. A stable group does not rebalance unless the member's
// protocols changed (KIP-345).
func (c *Coordinator) replaceStatic(g *classicGroup, now time.Time, client Client, old *classicMember, id string, w *waitingJoin, session, rebalance time.Duration) {
	c.fence(old)
	delete(g.members, old.id)
	changed := !sameProtocols(old.protocols, w.req.Protocols)
	m := *old
	m.id, m.clientID, m.host = id, client.ID, client.Host
	m.protocols, m.sessionTimeout, m.rebalanceTimeout = w.req.Protocols, session, rebalance
	m.join, m.sync = nil, nil
	g.members[id] = &m
	g.instances[m.instanceID] = id
	wasLeader := g.leader == old.id
	if wasLeader {
		g.leader = id
	}
	switch g.state {
	case stateStable:
		switch {
		case changed:
			m.join = w
			c.prepareRebalance(g, now)
		case wasLeader && w.req.Version < 9:
			// Before v9 a leader cannot be told to skip the
			// assignment: it would compute one for a group it does
			// not know. Rebalance.
			m.join = w
			c.prepareRebalance(g, now)
		default:
			m.expires = now.Add(session)
			c.answerJoin(g, &m, w, wasLeader)
		}
	case statePreparingRebalance:
		m.join = w
		c.tryCompleteJoin(g, now)
	default:
		m.join = w
		c.prepareRebalance(g, now)
	}
}

// fence answers whatever the member is waiting for with FENCED_INSTANCE_ID.
func (c *Coordinator) fence(m *classicMember) { c.release(m, kerr.FencedInstanceID.Code) }

// release answers the JoinGroup and SyncGroup m is waiting for with code.
func (c *Coordinator) release(m *classicMember, code int16) {
	if j := m.join; j != nil {
		c.later(func() {
			resp := joinResponse(j.req)
			resp.ErrorCode, resp.MemberID = code, m.id
			j.reply(resp)
		})
		m.join = nil
	}
	if s := m.sync; s != nil {
		c.later(func() {
			resp := syncResponse(s.req)
			resp.ErrorCode = code
			s.reply(resp)
		})
		m.sync = nil
	}
}

// prepareRebalance starts a join phase: members waiting for an assignment
// are told to rejoin, and the phase lasts until every member has rejoined
// or the longest rebalance timeout has passed. An empty group's first
// phase waits the initial rebalance delay for more members.
func (c *Coordinator) prepareRebalance(g *classicGroup, now time.Time) {
	if g.state == stateCompletingRebalance {
		for _, m := range g.members {
			if s := m.sync; s != nil {
				m.sync = nil
				c.later(func() {
					resp := syncResponse(s.req)
					resp.ErrorCode = kerr.RebalanceInProgress.Code
					s.reply(resp)
				})
			}
		}
	}
	timeout := g.maxRebalanceTimeout()
	if g.state == stateEmpty && c.cfg.InitialRebalanceDelay > 0 {
		g.delayed = true
		g.delayLimit = now.Add(timeout)
		g.joinDeadline = minTime(now.Add(c.cfg.InitialRebalanceDelay), g.delayLimit)
	} else {
		g.delayed = false
		g.joinDeadline = now.Add(timeout)
	}
	g.state = statePreparingRebalance
	c.tryCompleteJoin(g, now)
}

// tryCompleteJoin completes the join phase when every member has
// rejoined and no member id handed out is still to be used (outside the
// initial delay, which always runs to its end).
func (c *Coordinator) tryCompleteJoin(g *classicGroup, now time.Time) {
	if g.state != statePreparingRebalance || g.delayed || len(g.pending) > 0 {
		return
	}
	for _, m := range g.members {
		if m.join == nil {
			return
		}
	}
	c.completeJoin(g, now)
}

// completeJoin ends the join phase: members that did not rejoin are
// removed, a new generation starts with a protocol and a leader, and
// every member's JoinGroup is answered (the leader's with the members and
// their metadata).
func (c *Coordinator) completeJoin(g *classicGroup, now time.Time) {
	for _, m := range g.members {
		if m.join == nil {
			c.removeMember(g, m)
		}
	}
	g.delayed = false
	g.generation++
	g.rebalances++
	if len(g.members) == 0 {
		g.state, g.protocol, g.leader = stateEmpty, "", ""
		g.emptySince = now
		return
	}
	g.protocol = g.selectProtocol()
	if _, ok := g.members[g.leader]; !ok {
		g.leader = g.byJoinOrder()[0].id
	}
	g.state = stateCompletingRebalance
	g.syncDeadline = now.Add(g.maxRebalanceTimeout())
	for _, m := range g.members {
		w := m.join
		m.join, m.synced = nil, false
		m.expires = now.Add(m.sessionTimeout)
		c.answerJoin(g, m, w, false)
	}
}

// answerJoin answers m's JoinGroup with the current generation; the
// leader's answer lists the members (with skip, a static leader that
// rejoined is told to keep the assignment it made).
func (c *Coordinator) answerJoin(g *classicGroup, m *classicMember, w *waitingJoin, skip bool) {
	resp := joinResponse(w.req)
	resp.Generation = g.generation
	resp.ProtocolType = kmsg.StringPtr(g.protocolType)
	resp.Protocol = kmsg.StringPtr(g.protocol)
	resp.LeaderID = g.leader
	resp.MemberID = m.id
	resp.SkipAssignment = skip
	if m.id == g.leader {
		for _, o := range g.byJoinOrder() {
			rm := kmsg.NewJoinGroupResponseMember()
			rm.MemberID, rm.ProtocolMetadata = o.id, o.metadata(g.protocol)
			if o.instanceID != "" {
				rm.InstanceID = kmsg.StringPtr(o.instanceID)
			}
			resp.Members = append(resp.Members, rm)
		}
	}
	c.later(func() { w.reply(resp) })
}

// removeMember takes m out of the group, answering what it waits for with
// UNKNOWN_MEMBER_ID. It does not rebalance: the caller does.
func (c *Coordinator) removeMember(g *classicGroup, m *classicMember) {
	c.release(m, kerr.UnknownMemberID.Code)
	delete(g.members, m.id)
	if m.instanceID != "" && g.instances[m.instanceID] == m.id {
		delete(g.instances, m.instanceID)
	}
	if g.leader == m.id {
		g.leader = ""
	}
}

// membersLeft rebalances after members were removed.
func (c *Coordinator) membersLeft(g *classicGroup, now time.Time) {
	switch g.state {
	case stateStable, stateCompletingRebalance:
		c.prepareRebalance(g, now)
	case statePreparingRebalance:
		c.tryCompleteJoin(g, now)
	}
}

// joinResponse returns a response of the request's version with the
// fields that mean "nothing" set.
func joinResponse(req *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.Generation = -1
	return resp
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
