package consumer

import (
	"cmp"
	"maps"
	"math"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AllGroupOperations is the authorized-operations bit field of every
// operation on a group (READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS,
// ALTER_CONFIGS), which Kafka reports when no authorizer is configured.
const AllGroupOperations int32 = 1<<3 | 1<<6 | 1<<8 | 1<<10 | 1<<11

// Describe describes the group for ConsumerGroupDescribe (versions 0 and
// 1): its state, epochs and assignor, and each member (sorted by member
// id) with its subscription and its current and target assignments. Topics
// no longer in topics are left out of the assignments. With
// includeAuthorizedOperations the group's authorized operations are
// AllGroupOperations (this package knows no ACLs: a caller that has them
// overwrites the field); without, they are left unset (math.MinInt32).
// A deleted group gives GROUP_ID_NOT_FOUND.
func (g *Group) Describe(topics Topics, includeAuthorizedOperations bool) kmsg.ConsumerGroupDescribeResponseGroup {
	out := kmsg.NewConsumerGroupDescribeResponseGroup()
	out.Group = g.id
	if g.dead {
		out.ErrorCode = kerr.GroupIDNotFound.Code
		msg := "group " + g.id + " was deleted"
		out.ErrorMessage = &msg
		return out
	}
	out.State = g.State()
	out.Epoch = g.epoch
	out.AssignmentEpoch = g.assignmentEpoch
	out.AssignorName = g.selectedAssignor()
	out.AuthorizedOperations = math.MinInt32
	if includeAuthorizedOperations {
		out.AuthorizedOperations = AllGroupOperations
	}
	for _, id := range slices.Sorted(maps.Keys(g.members)) {
		m := g.members[id]
		d := kmsg.NewConsumerGroupDescribeResponseGroupMember()
		d.MemberID = m.id
		if m.instanceID != "" {
			d.InstanceID = &m.instanceID
		}
		if m.rackID != "" {
			d.RackID = &m.rackID
		}
		d.MemberEpoch = m.epoch
		d.ClientID = m.clientID
		d.ClientHost = m.clientHost
		d.SubscribedTopics = append([]string{}, m.names...)
		if m.regex != "" {
			d.SubscribedTopicRegex = &m.regex
		}
		d.Assignment = g.describeAssignment(m.assigned, topics)
		d.TargetAssignment = g.describeAssignment(g.target[m.id], topics)
		d.MemberType = 1 // a member of the consumer protocol
		out.Members = append(out.Members, d)
	}
	return out
}

// describeAssignment renders an assignment for ConsumerGroupDescribe,
// with topic names, sorted by name, topics that no longer exist left out
// (with a nil topics, the names the group remembers are used).
func (g *Group) describeAssignment(a assignment, topics Topics) kmsg.Assignment {
	out := kmsg.NewAssignment()
	out.TopicPartitions = []kmsg.AssignmentTopicPartition{}
	for _, id := range a.topics() {
		name, ok := g.names[id]
		if topics != nil {
			var t Topic
			t, ok = topics.ByID(id)
			name = t.Name
		}
		if !ok {
			continue
		}
		tp := kmsg.NewAssignmentTopicPartition()
		tp.TopicID = id
		tp.Topic = name
		tp.Partitions = a.partitions(id)
		out.TopicPartitions = append(out.TopicPartitions, tp)
	}
	slices.SortFunc(out.TopicPartitions, func(x, y kmsg.AssignmentTopicPartition) int {
		return cmp.Compare(x.Topic, y.Topic)
	})
	return out
}
