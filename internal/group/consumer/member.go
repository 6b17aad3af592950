package consumer

import (
	"maps"
	"slices"
	"time"
)

// Epochs a heartbeat may carry besides a member's own.
const (
	// joinEpoch is the epoch of a heartbeat that joins (or rejoins).
	joinEpoch int32 = 0
	// leaveEpoch is the epoch of a heartbeat that leaves the group.
	leaveEpoch int32 = -1
	// staticLeaveEpoch is the epoch of a static member that leaves for
	// a while and keeps its assignment until its session times out.
	staticLeaveEpoch int32 = -2
)

// memberState is where a member is in its reconciliation (Kafka's
// MemberState).
type memberState uint8

const (
	// stable: the member owns its whole target assignment, or is
	// behind the group's assignment epoch and has not heartbeated since.
	stable memberState = iota
	// unrevokedPartitions: the member must give up the partitions in
	// revoking before it moves to the assignment epoch.
	unrevokedPartitions
	// unreleasedPartitions: the member is at the assignment epoch but
	// some of its target partitions are still owned by other members.
	unreleasedPartitions
)

// String returns the state's name, as Members reports it.
func (s memberState) String() string {
	switch s {
	case unrevokedPartitions:
		return "UnrevokedPartitions"
	case unreleasedPartitions:
		return "UnreleasedPartitions"
	}
	return "Stable"
}

// member is one member of the group.
type member struct {
	id         string
	instanceID string // "" for a dynamic member
	rackID     string // "" when the member gave none
	clientID   string
	clientHost string

	rebalanceTimeout time.Duration
	names            []string // subscribed topic names, sorted, no duplicates
	regex            string   // subscribed regular expression, "" for none
	assignor         string   // preferred server assignor, "" for none

	// epoch is the member's epoch: the assignment epoch it last
	// reconciled to, 0 while joining, staticLeaveEpoch while a static
	// member is away. previousEpoch is the epoch before it, accepted
	// from a member whose response was lost.
	epoch         int32
	previousEpoch int32
	state         memberState

	// assigned are the partitions the member may use; revoking are the
	// ones it was told to give up and has not yet reported gone.
	// Invariant: assigned and revoking are disjoint, and every partition
	// in either is owned by this member in Group.owner.
	// Invariant: revoking is empty unless state is unrevokedPartitions.
	assigned assignment
	revoking assignment

	// sessionDeadline is when the member is removed unless it
	// heartbeats; rebalanceDeadline (zero unless state is
	// unrevokedPartitions) is when it is removed unless it has revoked.
	sessionDeadline   time.Time
	rebalanceDeadline time.Time

	// notify is set when assigned changed since the member was last sent
	// its assignment.
	notify bool
}

// newMember returns a member that has just joined: epoch 0, nothing
// assigned.
func newMember(id string) *member {
	return &member{
		id:            id,
		previousEpoch: -1,
		assigned:      make(assignment),
		revoking:      make(assignment),
	}
}

// reconciledTo reports whether m owns its whole target of that epoch.
func (m *member) reconciledTo(epoch int32) bool {
	return m.epoch == epoch && m.state == stable
}

// Member describes one member, for tools and metrics.
type Member struct {
	// ID is the member id; InstanceID the static member's instance id
	// ("" for a dynamic member); RackID the rack it gave ("" for none);
	// ClientID and ClientHost who sent its last heartbeat.
	ID, InstanceID, RackID, ClientID, ClientHost string
	// Epoch is the member epoch: -2 while a static member is away.
	Epoch int32
	// State is the member's reconciliation state: Stable,
	// UnrevokedPartitions (it must give partitions up first) or
	// UnreleasedPartitions (it waits for partitions other members hold).
	State string
	// Assigned are the partitions the member owns, Revoking those it was
	// told to give up, Target those the assignor gave it, each by topic
	// name, partitions in order.
	Assigned, Revoking, Target map[string][]int32
	// SubscribedTopicNames and SubscribedTopicRegex are its subscription
	// ("" for no regular expression); ServerAssignor the assignor it
	// asked for ("" for none).
	SubscribedTopicNames []string
	SubscribedTopicRegex string
	ServerAssignor       string
	// RebalanceTimeout is how long it may take to revoke partitions.
	RebalanceTimeout time.Duration
}

// Members returns the group's members sorted by member id.
func (g *Group) Members() []Member {
	out := make([]Member, 0, len(g.members))
	for _, id := range slices.Sorted(maps.Keys(g.members)) {
		m := g.members[id]
		out = append(out, Member{
			ID:                   m.id,
			InstanceID:           m.instanceID,
			RackID:               m.rackID,
			ClientID:             m.clientID,
			ClientHost:           m.clientHost,
			Epoch:                m.epoch,
			State:                m.state.String(),
			Assigned:             g.byName(m.assigned),
			Revoking:             g.byName(m.revoking),
			Target:               g.byName(g.target[m.id]),
			SubscribedTopicNames: slices.Clone(m.names),
			SubscribedTopicRegex: m.regex,
			ServerAssignor:       m.assignor,
			RebalanceTimeout:     m.rebalanceTimeout,
		})
	}
	return out
}

// byName renders an assignment keyed by topic name.
func (g *Group) byName(a assignment) map[string][]int32 {
	out := make(map[string][]int32, len(a))
	for t := range a {
		out[g.names[t]] = a.partitions(t)
	}
	return out
}
