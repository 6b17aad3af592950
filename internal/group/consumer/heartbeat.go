package consumer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Client is who sent a heartbeat: the client.id of the request header and
// the host of the connection.
type Client struct {
	ID, Host string
}

// refusal is a heartbeat the group refuses: the Kafka error and a message
// for the client.
type refusal struct {
	err     *kerr.Error
	message string
}

// refuse builds a refusal.
func refuse(err *kerr.Error, format string, args ...any) *refusal {
	return &refusal{err: err, message: fmt.Sprintf(format, args...)}
}

// Heartbeat serves a ConsumerGroupHeartbeat (versions 0 and 1) received
// at now from client, with topics the node's topics, and returns the
// response. A heartbeat joins (epoch 0), leaves (-1, or -2 for a static
// member leaving for a while) or reports on a member; see the package
// documentation for what each does.
func (g *Group) Heartbeat(now time.Time, client Client, req *kmsg.ConsumerGroupHeartbeatRequest, topics Topics) *kmsg.ConsumerGroupHeartbeatResponse {
	resp := kmsg.NewPtrConsumerGroupHeartbeatResponse()
	resp.Version = req.Version
	resp.HeartbeatIntervalMillis = int32(g.cfg.HeartbeatInterval / time.Millisecond)

	var r *refusal
	switch {
	case g.dead:
		r = refuse(kerr.GroupIDNotFound, "group %s was deleted", g.id)
	default:
		if r = g.validate(req); r != nil {
			break
		}
		if req.MemberEpoch == leaveEpoch || req.MemberEpoch == staticLeaveEpoch {
			r = g.leave(req, topics, resp)
		} else {
			r = g.beat(now, client, req, topics, resp)
		}
	}
	if r != nil {
		resp.ErrorCode = r.err.Code
		resp.ErrorMessage = &r.message
		resp.MemberID = nil
		resp.MemberEpoch = 0
		resp.Assignment = nil
	}
	return resp
}

// blank reports whether a string is empty or white space only.
func blank(s string) bool { return strings.TrimSpace(s) == "" }

// regexOf returns the request's regular expression: nil when the field is
// null or the version (0) does not have it.
func regexOf(req *kmsg.ConsumerGroupHeartbeatRequest) *string {
	if req.Version < 1 {
		return nil
	}
	return req.SubscribedTopicRegex
}

// validate checks a request's fields before anything is looked up, as
// Kafka does: INVALID_REQUEST for a malformed request, UNSUPPORTED_ASSIGNOR
// for an assignor the group does not have, INVALID_REGULAR_EXPRESSION for
// a regular expression that does not compile.
func (g *Group) validate(req *kmsg.ConsumerGroupHeartbeatRequest) *refusal {
	invalid := func(format string, args ...any) *refusal {
		return refuse(kerr.InvalidRequest, format, args...)
	}
	if (req.Version >= 1 || req.MemberEpoch > 0 || req.MemberEpoch == leaveEpoch) && blank(req.MemberID) {
		return invalid("the member id must not be empty")
	}
	if blank(req.Group) {
		return invalid("the group id must not be empty")
	}
	if req.InstanceID != nil && blank(*req.InstanceID) {
		return invalid("the instance id must not be empty when given")
	}
	if req.RackID != nil && blank(*req.RackID) {
		return invalid("the rack id must not be empty when given")
	}
	regex := regexOf(req)
	switch {
	case req.MemberEpoch == joinEpoch:
		if req.RebalanceTimeoutMillis == -1 {
			return invalid("a joining member must give its rebalance timeout")
		}
		if req.Topics == nil || len(req.Topics) > 0 {
			return invalid("a joining member must report an empty list of owned partitions")
		}
		if req.SubscribedTopicNames == nil && regex == nil {
			return invalid("a joining member must subscribe, by topic names or by regular expression")
		}
	case req.MemberEpoch == staticLeaveEpoch:
		if req.InstanceID == nil {
			return invalid("only a static member (with an instance id) may leave with epoch -2")
		}
	case req.MemberEpoch < staticLeaveEpoch:
		return invalid("member epoch %d is not valid", req.MemberEpoch)
	}
	if req.ServerAssignor != nil && !slices.Contains(g.cfg.Assignors, *req.ServerAssignor) {
		return refuse(kerr.UnsupportedAssignor, "assignor %q is not supported; the group supports %s",
			*req.ServerAssignor, strings.Join(g.cfg.Assignors, ", "))
	}
	if regex != nil && *regex != "" && g.regexRefs[*regex] == 0 {
		if _, err := compileRegex(*regex); err != nil {
			return refuse(kerr.InvalidRegularExpression, "subscribed regular expression %q: %v", *regex, err)
		}
	}
	return nil
}

// leave serves a heartbeat with epoch -1 (leave) or -2 (a static member
// leaving for a while). A member that leaves is removed and the epoch is
// bumped; a static member that leaves with -2 stays, at epoch -2, owning
// its assignment, until it rejoins with its instance id or its session
// times out.
func (g *Group) leave(req *kmsg.ConsumerGroupHeartbeatRequest, topics Topics, resp *kmsg.ConsumerGroupHeartbeatResponse) *refusal {
	var m *member
	if req.InstanceID == nil {
		if m = g.members[req.MemberID]; m == nil {
			return refuse(kerr.UnknownMemberID, "member %s is not in group %s", req.MemberID, g.id)
		}
	} else {
		var r *refusal
		if m, r = g.staticHolder(*req.InstanceID, req.MemberID); r != nil {
			return r
		}
	}
	if req.InstanceID != nil && req.MemberEpoch == staticLeaveEpoch {
		g.setOwnership(m, m.assigned, nil)
		m.epoch = staticLeaveEpoch
		m.state = stable
		m.rebalanceDeadline = time.Time{}
	} else {
		g.removeMember(m)
		g.refreshImage(topics)
		g.bump()
	}
	resp.MemberID = &req.MemberID
	resp.MemberEpoch = req.MemberEpoch
	return nil
}

// staticHolder returns the member holding an instance id for a heartbeat
// from memberID that names it: UNKNOWN_MEMBER_ID when no member holds it,
// FENCED_INSTANCE_ID when another member does.
func (g *Group) staticHolder(instanceID, memberID string) (*member, *refusal) {
	holderID, ok := g.static[instanceID]
	if !ok {
		return nil, refuse(kerr.UnknownMemberID, "no member of group %s has instance id %s", g.id, instanceID)
	}
	if holderID != memberID {
		return nil, refuse(kerr.FencedInstanceID, "instance id %s belongs to member %s, not %s", instanceID, holderID, memberID)
	}
	return g.members[holderID], nil
}

// checkEpoch checks the epoch of a heartbeat from an existing member that
// is not joining. Its own epoch is fine; so is its previous epoch when
// the partitions it reports are all in its assignment (the response that
// moved it on was lost). Anything else is FENCED_MEMBER_EPOCH. It reports
// whether the previous epoch was accepted.
func checkEpoch(m *member, epoch int32, owned assignment) (stale bool, r *refusal) {
	switch {
	case epoch == m.epoch:
		return false, nil
	case epoch < m.epoch && epoch == m.previousEpoch && ownsOnly(owned, m.assigned):
		return true, nil
	}
	return false, refuse(kerr.FencedMemberEpoch, "member %s is at epoch %d, not %d; it must give up its partitions and rejoin",
		m.id, m.epoch, epoch)
}

// full reports whether the group has no room for another member.
func (g *Group) full() bool {
	return g.cfg.MaxSize > 0 && len(g.members) >= g.cfg.MaxSize
}

// found is what a heartbeat that is not a leave refers to.
type found struct {
	// m is the member, nil when it is to be made: a newcomer, or the
	// member taking over from replaced.
	m *member
	// replaced is the static member, away at epoch -2, whose instance id
	// a joining member takes over; displaced another member already under
	// the joining member id, which gives up its place first.
	replaced, displaced *member
	// stale is set when the heartbeat came at the member's previous
	// epoch (its last response was lost).
	stale bool
}

// find looks up the member a heartbeat (not a leave) refers to and checks
// its epoch, without changing the group.
func (g *Group) find(req *kmsg.ConsumerGroupHeartbeatRequest, memberID string, owned assignment) (f found, r *refusal) {
	joining := req.MemberEpoch == joinEpoch
	groupFull := func() *refusal {
		return refuse(kerr.GroupMaxSizeReached, "group %s has reached its maximum of %d members", g.id, g.cfg.MaxSize)
	}
	switch {
	case req.InstanceID == nil:
		f.m = g.members[memberID]
		switch {
		case f.m == nil && !joining:
			return f, refuse(kerr.UnknownMemberID, "member %s is not in group %s", memberID, g.id)
		case f.m == nil && g.full():
			return f, groupFull()
		case f.m != nil && !joining:
			f.stale, r = checkEpoch(f.m, req.MemberEpoch, owned)
		}
	case joining:
		holderID, held := g.static[*req.InstanceID]
		switch {
		case held && g.members[holderID].epoch != staticLeaveEpoch:
			return f, refuse(kerr.UnreleasedInstanceID, "instance id %s is still used by member %s, which must leave first",
				*req.InstanceID, holderID)
		case held:
			f.replaced = g.members[holderID]
			// A joining heartbeat reports owning nothing, so another
			// member already under this member id (the same client,
			// rejoining) gives up what it had before it takes over.
			if other := g.members[memberID]; other != nil && other != f.replaced {
				f.displaced = other
			}
		default:
			if f.m = g.members[memberID]; f.m == nil && g.full() {
				return f, groupFull()
			}
		}
	default:
		if f.m, r = g.staticHolder(*req.InstanceID, memberID); r == nil {
			f.stale, r = checkEpoch(f.m, req.MemberEpoch, owned)
		}
	}
	return f, r
}

// beat serves a heartbeat that joins (epoch 0) or reports on a member: it
// finds or makes the member, applies what the request changes, bumps the
// epoch when that or the topics call for a new assignment, moves the
// member towards its target and answers.
func (g *Group) beat(now time.Time, client Client, req *kmsg.ConsumerGroupHeartbeatRequest, topics Topics, resp *kmsg.ConsumerGroupHeartbeatResponse) *refusal {
	joining := req.MemberEpoch == joinEpoch
	owned := ownedPartitions(req.Topics)
	memberID := req.MemberID
	if joining && memberID == "" {
		memberID = g.cfg.NewMemberID()
	}
	f, r := g.find(req, memberID, owned)
	if r != nil {
		return r
	}

	// From here on the heartbeat is accepted.
	membershipChanged := false
	if f.displaced != nil {
		g.removeMember(f.displaced)
		membershipChanged = true
	}
	m := f.m
	switch {
	case f.replaced != nil:
		m = g.replace(f.replaced, memberID)
	case m == nil:
		m = newMember(memberID)
		g.addMember(m)
		membershipChanged = true
	}
	assignorBefore := g.selectedAssignor()
	subscriptionChanged := g.update(m, client, req)

	// Bump the epoch for a new member, a new subscription, a new
	// assignor or new topic metadata; the target follows at once.
	bump := membershipChanged || g.epoch == 0 || subscriptionChanged || g.selectedAssignor() != assignorBefore
	if g.refreshImage(topics) {
		bump = true
	}
	if bump {
		g.bump()
	}

	g.reconcile(now, m, owned)
	m.sessionDeadline = now.Add(g.cfg.SessionTimeout)

	resp.MemberID = &m.id
	resp.MemberEpoch = m.epoch
	fullRequest := req.RebalanceTimeoutMillis != -1 && (req.SubscribedTopicNames != nil || regexOf(req) != nil) && req.Topics != nil
	if joining || fullRequest || f.stale || m.notify {
		resp.Assignment = m.assigned.heartbeatAssignment()
		m.notify = false
	}
	return nil
}

// update applies to m, a member of the group, the fields a heartbeat
// gives (a null field leaves its value as it is) and reports whether its
// subscription changed.
func (g *Group) update(m *member, client Client, req *kmsg.ConsumerGroupHeartbeatRequest) (subscriptionChanged bool) {
	namesBefore, regexBefore := m.names, m.regex
	g.unsubscribe(m)
	if req.InstanceID != nil && *req.InstanceID != m.instanceID {
		if m.instanceID != "" && g.static[m.instanceID] == m.id {
			delete(g.static, m.instanceID)
		}
		m.instanceID = *req.InstanceID
	}
	if req.RackID != nil {
		m.rackID = *req.RackID
	}
	if req.RebalanceTimeoutMillis != -1 {
		m.rebalanceTimeout = time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	}
	if req.ServerAssignor != nil {
		m.assignor = *req.ServerAssignor
	}
	if req.SubscribedTopicNames != nil {
		names := slices.Clone(req.SubscribedTopicNames)
		slices.Sort(names)
		m.names = slices.Compact(names)
	}
	if regex := regexOf(req); regex != nil {
		m.regex = *regex
	}
	m.clientID, m.clientHost = client.ID, client.Host
	g.addMember(m)
	return !slices.Equal(namesBefore, m.names) || regexBefore != m.regex
}

// replace puts a static member rejoining under memberID in the place of
// the member that held its instance id and left with epoch -2: the new
// member takes over its subscription, its partitions and its target, at
// epoch 0, and reconciles from there like any member.
func (g *Group) replace(old *member, memberID string) *member {
	assigned := old.assigned
	target := g.target[old.id]
	g.removeMember(old)
	m := newMember(memberID)
	m.instanceID = old.instanceID
	m.rackID = old.rackID
	m.rebalanceTimeout = old.rebalanceTimeout
	m.names = old.names
	m.regex = old.regex
	m.assignor = old.assignor
	m.previousEpoch = 0
	m.sessionDeadline = old.sessionDeadline
	g.addMember(m)
	g.setOwnership(m, assigned, nil)
	if target != nil {
		g.target[m.id] = target
	}
	return m
}
