package group

import (
	"bytes"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// classicState is a classic group's state, as Kafka names them.
type classicState int8

const (
	// stateEmpty: no members (possibly offsets).
	stateEmpty classicState = iota
	// statePreparingRebalance: members are (re)joining.
	statePreparingRebalance
	// stateCompletingRebalance: the join is done; waiting for the leader's
	// assignment in SyncGroup.
	stateCompletingRebalance
	// stateStable: every member has its assignment.
	stateStable
)

func (s classicState) String() string {
	switch s {
	case statePreparingRebalance:
		return "PreparingRebalance"
	case stateCompletingRebalance:
		return "CompletingRebalance"
	case stateStable:
		return "Stable"
	}
	return "Empty"
}

// classicGroup is the membership of a classic group.
type classicGroup struct {
	state        classicState
	protocolType string // of the members; kept while empty
	protocol     string // chosen for the current generation
	generation   int32
	leader       string

	members map[string]*classicMember
	// pending are member ids handed out with MEMBER_ID_REQUIRED, with
	// when they lapse if not used to join.
	pending map[string]time.Time
	// instances maps static members' group.instance.id to member id.
	instances map[string]string

	// joinDeadline ends the join phase (PreparingRebalance): members that
	// have not rejoined by then are removed. In the initial delay of an
	// empty group (delayed), more joins push it back up to delayLimit.
	joinDeadline time.Time
	delayed      bool
	delayLimit   time.Time
	// syncDeadline ends CompletingRebalance: members that have not sent
	// SyncGroup by then are removed and the group rebalances.
	syncDeadline time.Time
	// emptySince is when the group last became empty (offset retention).
	emptySince time.Time

	rebalances uint64 // completed joins since the node started
	joins      uint64 // join order of members, for choosing a leader
}

// classicMember is one member of a classic group.
type classicMember struct {
	id, instanceID   string // instanceID "" for dynamic members
	clientID, host   string
	protocols        []kmsg.JoinGroupRequestProtocol
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	assignment       []byte
	order            uint64 // when it joined the group, for leader choice

	// join, while the member waits in a rebalance, answers its JoinGroup.
	join *waitingJoin
	// sync, while it waits for the leader's assignment, answers its
	// SyncGroup.
	sync *waitingSync
	// synced: it has sent SyncGroup for the current generation.
	synced bool
	// expires is when its session ends without a heartbeat.
	expires time.Time
}

type waitingJoin struct {
	req   *kmsg.JoinGroupRequest
	reply func(*kmsg.JoinGroupResponse)
}

type waitingSync struct {
	req   *kmsg.SyncGroupRequest
	reply func(*kmsg.SyncGroupResponse)
}

func newClassicGroup(now time.Time) *classicGroup {
	return &classicGroup{
		members:    make(map[string]*classicMember),
		pending:    make(map[string]time.Time),
		instances:  make(map[string]string),
		emptySince: now,
	}
}

// busy reports whether Tick must watch the group.
func (g *classicGroup) busy() bool {
	return len(g.members) > 0 || len(g.pending) > 0 || g.state != stateEmpty
}

// nextDeadline returns the earliest time something is due.
func (g *classicGroup) nextDeadline() time.Time {
	var next time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, t := range g.pending {
		earliest(t)
	}
	for _, m := range g.members {
		if m.join == nil {
			earliest(m.expires)
		}
	}
	switch g.state {
	case statePreparingRebalance:
		earliest(g.joinDeadline)
	case stateCompletingRebalance:
		earliest(g.syncDeadline)
	}
	return next
}

// maxRebalanceTimeout is the longest rebalance timeout of the members.
func (g *classicGroup) maxRebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// supports reports whether a member of protocolType offering protocols
// can join: any member can join an empty group; otherwise the type must
// match and one protocol must be offered by every other member too.
func (g *classicGroup) supports(memberID, protocolType string, protocols []kmsg.JoinGroupRequestProtocol) bool {
	others := 0
	for id := range g.members {
		if id != memberID {
			others++
		}
	}
	if others == 0 {
		return true
	}
	if protocolType != g.protocolType {
		return false
	}
	for _, p := range protocols {
		all := true
		for id, m := range g.members {
			if id != memberID && !m.offers(p.Name) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// offers reports whether the member offers the protocol name.
func (m *classicMember) offers(name string) bool {
	for _, p := range m.protocols {
		if p.Name == name {
			return true
		}
	}
	return false
}

// metadata returns the member's metadata for the protocol name.
func (m *classicMember) metadata(name string) []byte {
	for _, p := range m.protocols {
		if p.Name == name {
			return p.Metadata
		}
	}
	return nil
}

// sameProtocols reports whether two protocol lists are equal: names,
// order and metadata.
func sameProtocols(a, b []kmsg.JoinGroupRequestProtocol) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Metadata, b[i].Metadata) {
			return false
		}
	}
	return true
}

// selectProtocol chooses the protocol of a new generation: among those
// every member offers, the one most members prefer (each votes for its
// first choice among them); ties go to the one the earliest member
// prefers.
func (g *classicGroup) selectProtocol() string {
	members := g.byJoinOrder()
	if len(members) == 0 {
		return ""
	}
	common := func(name string) bool {
		for _, m := range members {
			if !m.offers(name) {
				return false
			}
		}
		return true
	}
	votes := make(map[string]int)
	for _, m := range members {
		for _, p := range m.protocols {
			if common(p.Name) {
				votes[p.Name]++
				break
			}
		}
	}
	best, bestVotes := "", -1
	for _, p := range members[0].protocols {
		if v, ok := votes[p.Name]; ok && v > bestVotes {
			best, bestVotes = p.Name, v
		}
	}
	return best
}

// byJoinOrder returns the members in the order they joined the group.
func (g *classicGroup) byJoinOrder() []*classicMember {
	out := make([]*classicMember, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order < out[j].order })
	return out
}

// fencedInstance reports whether a request naming instanceID and memberID
// comes from a static member that another has since replaced.
func (g *classicGroup) fencedInstance(instanceID *string, memberID string) bool {
	if instanceID == nil || *instanceID == "" {
		return false
	}
	id, ok := g.instances[*instanceID]
	return ok && id != memberID
}

// millis converts a request's milliseconds.
func millis(ms int32) time.Duration { return time.Duration(ms) * time.Millisecond }
