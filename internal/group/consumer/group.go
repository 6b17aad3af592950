package consumer

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Config holds a consumer group's settings, under Kafka's names. Zero
// values take Kafka's defaults.
type Config struct {
	// SessionTimeout is group.consumer.session.timeout.ms (45 s): a
	// member that does not heartbeat for this long is removed.
	SessionTimeout time.Duration
	// HeartbeatInterval is group.consumer.heartbeat.interval.ms (5 s),
	// sent to members in every response.
	HeartbeatInterval time.Duration
	// MaxSize is group.consumer.max.size: the most members the group
	// takes (0: no limit).
	MaxSize int
	// Assignors is group.consumer.assignors: the server-side assignors
	// members may ask for, "uniform" and "range"; the first is used when
	// no member asks for one. Nil means both, uniform first.
	Assignors []string
	// NewMemberID makes the member id of a member joining with version 0
	// of ConsumerGroupHeartbeat, which leaves it to the server. Nil means
	// 22 characters of URL-safe base64 of 16 random bytes, not starting
	// with '-', as Kafka's Uuid.toString() writes them.
	NewMemberID func() string
}

// Kafka's defaults for Config.
const (
	DefaultSessionTimeout    = 45 * time.Second
	DefaultHeartbeatInterval = 5 * time.Second
)

// Names of the server-side assignors.
const (
	UniformAssignor = "uniform"
	RangeAssignor   = "range"
)

// Validate reports settings New would not use as given: negative
// durations or size, and assignors that do not exist.
func (c Config) Validate() error {
	if c.SessionTimeout < 0 || c.HeartbeatInterval < 0 || c.MaxSize < 0 {
		return fmt.Errorf("consumer: negative session timeout, heartbeat interval or max size")
	}
	for _, name := range c.Assignors {
		if assignorByName(name) == nil {
			return fmt.Errorf("consumer: unknown assignor %q (have %q and %q)", name, UniformAssignor, RangeAssignor)
		}
	}
	return nil
}

// withDefaults fills in the zero settings.
func (c Config) withDefaults() Config {
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	var known []string
	for _, name := range c.Assignors {
		if assignorByName(name) != nil && !slices.Contains(known, name) {
			known = append(known, name)
		}
	}
	if len(known) == 0 {
		known = []string{UniformAssignor, RangeAssignor}
	}
	c.Assignors = known
	if c.NewMemberID == nil {
		c.NewMemberID = randomMemberID
	}
	return c
}

// randomMemberID returns a random member id written like Kafka's Uuid:
// URL-safe base64 without padding, never starting with '-' (a leading
// '-' reads as a command-line flag, so Kafka draws again).
func randomMemberID() string {
	var b [16]byte
	for {
		_, _ = rand.Read(b[:])
		id := base64.RawURLEncoding.EncodeToString(b[:])
		if id[0] != '-' && b != ([16]byte{}) {
			return id
		}
	}
}

// Group is one KIP-848 consumer group. It is not safe for concurrent use:
// the coordinator serializes the calls.
type Group struct {
	id  string
	cfg Config

	// dead is set by Delete; a dead group answers nothing.
	dead bool

	// epoch is the group epoch; assignmentEpoch is the epoch of the
	// target assignment. The target is computed whenever the epoch is
	// bumped, within the same call.
	// Invariant: assignmentEpoch == epoch.
	epoch           int32
	assignmentEpoch int32
	rebalances      uint64

	members map[string]*member
	// static maps instance ids to the member id holding them.
	static map[string]string
	// target is the target assignment of each member.
	target map[string]assignment
	// owner is who owns each partition that some member has assigned
	// or is revoking.
	// Invariant: owner[tp] == m.id exactly when tp is in m.assigned or
	// m.revoking, so no partition is owned by two members.
	owner map[topicPartition]string

	// nameRefs, regexRefs and assignorRefs count the members that
	// subscribe to each topic name or regular expression and that ask
	// for each assignor.
	nameRefs     map[string]int
	regexRefs    map[string]int
	assignorRefs map[string]int
	// compiled caches the compiled regular expressions of regexRefs.
	compiled map[string]*regexp.Regexp

	// image is what the group last resolved of the subscribed topics;
	// names remembers topic names by id for the topics the group's
	// assignments mention.
	image *image
	names map[topicID]string
}

// New returns an empty group (epoch 0, state Empty). cfg's zero fields
// take Kafka's defaults and unknown assignors are dropped (Config.Validate
// reports them).
func New(groupID string, cfg Config) *Group {
	return &Group{
		id:           groupID,
		cfg:          cfg.withDefaults(),
		members:      make(map[string]*member),
		static:       make(map[string]string),
		target:       make(map[string]assignment),
		owner:        make(map[topicPartition]string),
		nameRefs:     make(map[string]int),
		regexRefs:    make(map[string]int),
		assignorRefs: make(map[string]int),
		compiled:     make(map[string]*regexp.Regexp),
		image:        &image{byName: map[string]Topic{}, resolved: map[string][]string{}},
		names:        make(map[topicID]string),
	}
}

// Group states, as Kafka names them.
const (
	StateEmpty       = "Empty"
	StateAssigning   = "Assigning"
	StateReconciling = "Reconciling"
	StateStable      = "Stable"
	StateDead        = "Dead"
)

// State returns the group's state: Empty without members; Reconciling
// while some member has not reached the assignment epoch or still has
// partitions to revoke or to receive; Stable otherwise; Dead after
// Delete. The target assignment is computed as soon as the epoch is
// bumped, so the group is never seen Assigning.
func (g *Group) State() string {
	switch {
	case g.dead:
		return StateDead
	case len(g.members) == 0:
		return StateEmpty
	case g.epoch > g.assignmentEpoch:
		return StateAssigning
	}
	for _, m := range g.members {
		if !m.reconciledTo(g.assignmentEpoch) {
			return StateReconciling
		}
	}
	return StateStable
}

// Len returns the number of members, static members that left for a
// while (epoch -2) included.
func (g *Group) Len() int { return len(g.members) }

// Epoch returns the group epoch.
func (g *Group) Epoch() int32 { return g.epoch }

// Rebalances returns how many times the group epoch was bumped since New.
func (g *Group) Rebalances() uint64 { return g.rebalances }

// Delete deletes the group for DeleteGroups: a group with members is not
// deleted (NON_EMPTY_GROUP); an empty one becomes Dead and 0 is returned.
// Deleting a dead group gives GROUP_ID_NOT_FOUND.
func (g *Group) Delete() int16 {
	switch {
	case g.dead:
		return kerr.GroupIDNotFound.Code
	case len(g.members) > 0:
		return kerr.NonEmptyGroup.Code
	}
	g.dead = true
	return 0
}

// NextDeadline returns the earliest time Tick has something to do: a
// session or a rebalance timeout. It is zero when there is none. Tick must
// also be called when topics change, which no deadline announces.
func (g *Group) NextDeadline() time.Time {
	var next time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if g.dead {
		return next
	}
	for _, m := range g.members {
		earlier(m.sessionDeadline)
		earlier(m.rebalanceDeadline)
	}
	return next
}

// selectedAssignor returns the assignor the group uses: the one most
// members ask for (ties go to the one listed first in the config), else
// the first configured.
func (g *Group) selectedAssignor() string {
	best, bestRefs := g.cfg.Assignors[0], 0
	for _, name := range g.cfg.Assignors {
		if n := g.assignorRefs[name]; n > bestRefs {
			best, bestRefs = name, n
		}
	}
	return best
}

// bump moves the group to a new epoch and computes the target assignment
// for it from the members and the image.
func (g *Group) bump() {
	g.epoch++
	g.rebalances++
	g.computeTarget()
	g.assignmentEpoch = g.epoch
	g.pruneNames()
}

// setOwnership gives m the partitions assigned and revoking, updating
// the ownership index.
func (g *Group) setOwnership(m *member, assigned, revoking assignment) {
	for _, a := range []assignment{m.assigned, m.revoking} {
		for t, ps := range a {
			for p := range ps {
				tp := topicPartition{t, p}
				if g.owner[tp] != m.id {
					panic(fmt.Sprintf("consumer: member %s holds a partition owned by %q", m.id, g.owner[tp]))
				}
				delete(g.owner, tp)
			}
		}
	}
	for _, a := range []assignment{assigned, revoking} {
		for t, ps := range a {
			for p := range ps {
				tp := topicPartition{t, p}
				if other, ok := g.owner[tp]; ok {
					panic(fmt.Sprintf("consumer: partition given to member %s is owned by %s", m.id, other))
				}
				g.owner[tp] = m.id
			}
		}
	}
	if assigned == nil {
		assigned = make(assignment)
	}
	if revoking == nil {
		revoking = make(assignment)
	}
	m.assigned, m.revoking = assigned, revoking
}

// addMember puts a member into the group.
func (g *Group) addMember(m *member) {
	g.members[m.id] = m
	if m.instanceID != "" {
		g.static[m.instanceID] = m.id
	}
	g.subscribe(m)
}

// removeMember takes m out of the group, releasing its partitions at once.
func (g *Group) removeMember(m *member) {
	g.setOwnership(m, nil, nil)
	g.unsubscribe(m)
	delete(g.members, m.id)
	delete(g.target, m.id)
	if m.instanceID != "" && g.static[m.instanceID] == m.id {
		delete(g.static, m.instanceID)
	}
}
