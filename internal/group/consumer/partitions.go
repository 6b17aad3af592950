package consumer

import (
	"bytes"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicID is a topic's 16-byte id, as the protocol carries it.
type topicID = [16]byte

// topicPartition names one partition of a topic by the topic's id.
type topicPartition struct {
	topic     topicID
	partition int32
}

// assignment is a set of partitions keyed by topic id. A topic with no
// partitions is never kept as an empty set: every method that removes
// deletes empty topics, so len(a) is the number of topics it holds.
type assignment map[topicID]map[int32]struct{}

// add puts one partition into a.
func (a assignment) add(t topicID, p int32) {
	ps := a[t]
	if ps == nil {
		ps = make(map[int32]struct{})
		a[t] = ps
	}
	ps[p] = struct{}{}
}

// remove takes one partition out of a.
func (a assignment) remove(t topicID, p int32) {
	ps := a[t]
	delete(ps, p)
	if len(ps) == 0 {
		delete(a, t)
	}
}

// has reports whether a holds the partition.
func (a assignment) has(t topicID, p int32) bool {
	_, ok := a[t][p]
	return ok
}

// size is the number of partitions in a.
func (a assignment) size() int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

// clone returns a copy of a that shares nothing with it.
func (a assignment) clone() assignment {
	c := make(assignment, len(a))
	for t, ps := range a {
		for p := range ps {
			c.add(t, p)
		}
	}
	return c
}

// equal reports whether a and b hold the same partitions.
func (a assignment) equal(b assignment) bool {
	if len(a) != len(b) {
		return false
	}
	for t, ps := range a {
		qs := b[t]
		if len(ps) != len(qs) {
			return false
		}
		for p := range ps {
			if _, ok := qs[p]; !ok {
				return false
			}
		}
	}
	return true
}

// intersect returns the partitions in both a and b.
func (a assignment) intersect(b assignment) assignment {
	c := make(assignment)
	for t, ps := range a {
		for p := range ps {
			if b.has(t, p) {
				c.add(t, p)
			}
		}
	}
	return c
}

// minus returns the partitions of a that are not in b.
func (a assignment) minus(b assignment) assignment {
	c := make(assignment)
	for t, ps := range a {
		for p := range ps {
			if !b.has(t, p) {
				c.add(t, p)
			}
		}
	}
	return c
}

// union returns the partitions in a or b.
func (a assignment) union(b assignment) assignment {
	c := a.clone()
	for t, ps := range b {
		for p := range ps {
			c.add(t, p)
		}
	}
	return c
}

// overlaps reports whether a and b share a partition.
func (a assignment) overlaps(b assignment) bool {
	for t, ps := range a {
		for p := range ps {
			if b.has(t, p) {
				return true
			}
		}
	}
	return false
}

// topics returns the topic ids of a in byte order.
func (a assignment) topics() []topicID {
	ts := make([]topicID, 0, len(a))
	for t := range a {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(x, y topicID) int { return bytes.Compare(x[:], y[:]) })
	return ts
}

// partitions returns the partitions a holds of topic t, in order.
func (a assignment) partitions(t topicID) []int32 {
	ps := make([]int32, 0, len(a[t]))
	for p := range a[t] {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// list returns every partition of a, by topic id then partition.
func (a assignment) list() []topicPartition {
	out := make([]topicPartition, 0, a.size())
	for _, t := range a.topics() {
		for _, p := range a.partitions(t) {
			out = append(out, topicPartition{t, p})
		}
	}
	return out
}

// heartbeatAssignment renders a as a ConsumerGroupHeartbeat response
// assignment, topics and partitions in order so that responses are
// byte-for-byte reproducible.
func (a assignment) heartbeatAssignment() *kmsg.ConsumerGroupHeartbeatResponseAssignment {
	out := &kmsg.ConsumerGroupHeartbeatResponseAssignment{}
	out.Default()
	out.Topics = make([]kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic, 0, len(a))
	for _, t := range a.topics() {
		topic := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
		topic.TopicID = t
		topic.Partitions = a.partitions(t)
		out.Topics = append(out.Topics, topic)
	}
	return out
}

// ownedPartitions reads the partitions a heartbeat says its member owns.
// A nil Topics (the field was null: "unchanged") gives nil, which the
// reconciliation reads as "unknown"; an empty one gives an empty set.
func ownedPartitions(topics []kmsg.ConsumerGroupHeartbeatRequestTopic) assignment {
	if topics == nil {
		return nil
	}
	owned := make(assignment)
	for _, t := range topics {
		for _, p := range t.Partitions {
			owned.add(t.TopicID, p)
		}
	}
	return owned
}
