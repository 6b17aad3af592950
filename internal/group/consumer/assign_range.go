package consumer

import (
	"cmp"
	"slices"
)

// rangeAssignor is the "range" assignor, as Kafka 4's server-side
// RangeAssignor: each topic is cut into contiguous ranges, one per member
// subscribed to it, in a fixed order of the members: static members
// first, by instance id, then the others by member id. With P partitions
// and N subscribers each member gets P/N partitions, and the first P%N
// members one more; when N > P the members past the P-th get none.
//
// Members subscribed to the same topics with equal partition counts thus
// get the same partition numbers of every topic (co-partitioning, for
// joins). The assignor keeps nothing of the previous assignment: it is
// sticky only through the order, which a restarted static member keeps
// (its instance id) and a dynamic member does not (a new member id).
type rangeAssignor struct{}

// assign implements partitionAssignor.
func (rangeAssignor) assign(members []assignMember) map[string]assignment {
	ordered := slices.Clone(members)
	slices.SortFunc(ordered, func(a, b assignMember) int {
		switch {
		case a.instanceID != "" && b.instanceID != "":
			return cmp.Compare(a.instanceID, b.instanceID)
		case a.instanceID != "":
			return -1
		case b.instanceID != "":
			return 1
		}
		return cmp.Compare(a.id, b.id)
	})

	out := make(map[string]assignment, len(members))
	subscribers := make(map[topicID][]string)
	topics := make(map[topicID]Topic)
	for _, m := range ordered {
		out[m.id] = make(assignment)
		for _, t := range m.topics {
			subscribers[t.ID] = append(subscribers[t.ID], m.id)
			topics[t.ID] = t
		}
	}
	for id, t := range topics {
		subs := subscribers[id]
		quota, extra := t.Partitions/int32(len(subs)), t.Partitions%int32(len(subs))
		next := int32(0)
		for k, memberID := range subs {
			n := quota
			if int32(k) < extra {
				n++
			}
			for p := next; p < next+n; p++ {
				out[memberID].add(id, p)
			}
			next += n
		}
	}
	return out
}
