package consumer

import (
	"maps"
	"slices"
)

// assignMember is what an assignor knows of a member.
type assignMember struct {
	id         string
	instanceID string
	// topics are the existing topics the member subscribes to, sorted by
	// name.
	topics []Topic
	// current is the member's previous target assignment, which a sticky
	// assignor keeps what it can of.
	current assignment
}

// partitionAssignor computes a target assignment: every partition of
// every topic some member subscribes to goes to exactly one member
// subscribed to its topic. members are sorted by member id; the result
// has an entry, maybe empty, for each of them. It must be deterministic.
type partitionAssignor interface {
	assign(members []assignMember) map[string]assignment
}

// assignorByName returns the assignor of that name, nil if there is none.
func assignorByName(name string) partitionAssignor {
	switch name {
	case UniformAssignor:
		return uniform{}
	case RangeAssignor:
		return rangeAssignor{}
	}
	return nil
}

// computeTarget computes the target assignment of every member with the
// group's assignor, from the members' subscriptions, the image and the
// previous target.
func (g *Group) computeTarget() {
	ids := slices.Sorted(maps.Keys(g.members))
	specs := make([]assignMember, 0, len(ids))
	for _, id := range ids {
		m := g.members[id]
		current := g.target[id]
		if current == nil {
			current = make(assignment)
		}
		specs = append(specs, assignMember{
			id:         id,
			instanceID: m.instanceID,
			topics:     g.memberTopics(m),
			current:    current,
		})
	}
	target := assignorByName(g.selectedAssignor()).assign(specs)
	for _, id := range ids {
		if target[id] == nil {
			target[id] = make(assignment)
		}
	}
	g.target = target
}
