package group

import (
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicPartition names a partition.
type topicPartition struct {
	topic     string
	partition int32
}

// committed is a committed offset.
type committed struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	commitTime  int64 // milliseconds since the epoch
	// seq orders the writes of offsets in the log: a transaction's
	// offsets, applied when its marker comes, do not replace an offset
	// written after them.
	seq uint64
}

// Commit is an offset commit the coordinator accepted and that is not yet
// written. The caller appends Records (in one batch, atomically) and then
// calls FinishOffsetCommit, which applies them; until then nobody reads
// the new offsets. A caller that writes commits concurrently must append
// and finish them in the same order, so that replaying the log gives what
// the coordinator holds.
type Commit struct {
	// Response is the answer to send once FinishOffsetCommit has run.
	Response *kmsg.OffsetCommitResponse
	// Records make the commit durable: one per committed partition.
	Records []Record

	group   string
	offsets []commitOffset
}

// commitOffset is one partition of a commit, and where its error code
// goes in the response.
type commitOffset struct {
	tp     topicPartition
	value  committed
	ti, pi int
}

// PrepareOffsetCommit checks an OffsetCommit request: the group, the
// member's generation (or epoch), the topics and the metadata sizes. The
// partitions that pass are in the returned Commit's Records; the others
// already have their error code in its Response.
func (c *Coordinator) PrepareOffsetCommit(now time.Time, req *kmsg.OffsetCommitRequest) *Commit {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	commit := &Commit{Response: resp, group: req.Group}
	code := c.validateCommit(now, req)
	for ti, rt := range req.Topics {
		st := kmsg.NewOffsetCommitResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		topicCode := code
		var topic Topic
		if topicCode == 0 {
			var ok bool
			if req.Version >= 10 {
				topic, ok = c.topics.ByID(rt.TopicID)
				if !ok {
					topicCode = kerr.UnknownTopicID.Code
				}
			} else if topic, ok = c.topics.ByName(rt.Topic); !ok {
				topicCode = kerr.UnknownTopicOrPartition.Code
			}
		}
		for pi, rp := range rt.Partitions {
			sp := kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition, sp.ErrorCode = rp.Partition, topicCode
			switch {
			case sp.ErrorCode != 0:
			case rp.Partition < 0 || rp.Partition >= topic.Partitions:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case rp.Metadata != nil && len(*rp.Metadata) > c.cfg.OffsetMetadataMaxBytes:
				sp.ErrorCode = kerr.OffsetMetadataTooLarge.Code
			default:
				v := committed{offset: rp.Offset, leaderEpoch: -1, commitTime: now.UnixMilli()}
				if req.Version >= 6 {
					v.leaderEpoch = rp.LeaderEpoch
				}
				if rp.Metadata != nil {
					v.metadata = *rp.Metadata
				}
				tp := topicPartition{topic.Name, rp.Partition}
				commit.offsets = append(commit.offsets, commitOffset{tp: tp, value: v, ti: ti, pi: pi})
				commit.Records = append(commit.Records, offsetRecord(req.Group, tp, v))
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return commit
}

// validateCommit checks who commits: a member of the current generation
// (classic) or epoch (consumer group), or anybody for a group without
// members when the request names no generation.
func (c *Coordinator) validateCommit(now time.Time, req *kmsg.OffsetCommitRequest) int16 {
	if len(req.Group) > maxGroupIDBytes {
		return kerr.InvalidGroupID.Code
	}
	e := c.group(req.Group)
	generation := req.Generation
	if req.Version == 0 {
		generation = -1
	}
	switch {
	case e != nil && e.consumer != nil:
		return e.consumer.ValidateOffsetCommit(req.MemberID, generation, req.Version)
	case e == nil || e.classic == nil:
		if generation < 0 {
			return 0
		}
		return kerr.IllegalGeneration.Code
	}
	g := e.classic
	m := g.members[req.MemberID]
	switch {
	case g.fencedInstance(req.InstanceID, req.MemberID):
		return kerr.FencedInstanceID.Code
	case generation < 0 && g.state == stateEmpty:
		return 0
	case g.state == stateCompletingRebalance:
		return kerr.RebalanceInProgress.Code
	case m == nil:
		return kerr.UnknownMemberID.Code
	case generation != g.generation:
		return kerr.IllegalGeneration.Code
	}
	m.expires = now.Add(m.sessionTimeout) // a commit is a sign of life
	return 0
}

// FinishOffsetCommit ends a commit once its records were written: with
// code 0 the offsets take effect; otherwise (the write failed) every
// partition of it gets code in the response.
func (c *Coordinator) FinishOffsetCommit(commit *Commit, code int16) {
	if code != 0 {
		commit.Fail(code)
		return
	}
	if len(commit.offsets) == 0 {
		return
	}
	c.lock()
	defer c.unlock()
	e := c.getOrCreate(commit.group)
	for _, o := range commit.offsets {
		v := o.value
		v.seq = c.nextSeq()
		e.offsets[o.tp] = &v
	}
	c.settle(e)
}

// Fail gives every partition of the commit that had none an error code:
// for a write that failed after FinishOffsetCommit applied it (the fsync).
func (commit *Commit) Fail(code int16) {
	for _, o := range commit.offsets {
		commit.Response.Topics[o.ti].Partitions[o.pi].ErrorCode = code
	}
}

// FetchOffsets serves an OffsetFetch request: one group (v0-7) or many
// (v8+). A partition without a committed offset has offset -1.
func (c *Coordinator) FetchOffsets(req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version < 8 {
		g := kmsg.NewOffsetFetchRequestGroup()
		g.Group = req.Group
		if req.Topics != nil || req.Version < 2 {
			g.Topics = []kmsg.OffsetFetchRequestGroupTopic{}
			for _, t := range req.Topics {
				gt := kmsg.NewOffsetFetchRequestGroupTopic()
				gt.Topic, gt.Partitions = t.Topic, t.Partitions
				g.Topics = append(g.Topics, gt)
			}
		}
		out := c.fetchGroup(req.Version, g, req.RequireStable)
		resp.ErrorCode = out.ErrorCode
		for _, t := range out.Topics {
			rt := kmsg.NewOffsetFetchResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetFetchResponseTopicPartition()
				rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata, rp.ErrorCode = p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode
				if out.ErrorCode != 0 && req.Version < 2 {
					rp.ErrorCode = out.ErrorCode
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp
	}
	for _, g := range req.Groups {
		resp.Groups = append(resp.Groups, c.fetchGroup(req.Version, g, req.RequireStable))
	}
	return resp
}

// fetchGroup answers the OffsetFetch of one group. With requireStable, a
// partition with a transactional offset waiting for its marker gets
// UNSTABLE_OFFSET_COMMIT (the client retries).
func (c *Coordinator) fetchGroup(version int16, req kmsg.OffsetFetchRequestGroup, requireStable bool) kmsg.OffsetFetchResponseGroup {
	out := kmsg.NewOffsetFetchResponseGroup()
	out.Group = req.Group
	if len(req.Group) > maxGroupIDBytes {
		out.ErrorCode = kerr.InvalidGroupID.Code
		return out
	}
	e := c.group(req.Group)
	if e != nil && e.consumer != nil && version >= 9 && req.MemberID != nil {
		if code := e.consumer.ValidateOffsetFetch(*req.MemberID, req.MemberEpoch); code != 0 {
			out.ErrorCode = code
			return out
		}
	}
	offsets := map[topicPartition]*committed{}
	if e != nil {
		offsets = e.offsets
	}
	if req.Topics == nil {
		// Every committed offset of the group, by topic.
		byTopic := map[string][]int32{}
		for tp := range offsets {
			byTopic[tp.topic] = append(byTopic[tp.topic], tp.partition)
		}
		names := make([]string, 0, len(byTopic))
		for name := range byTopic {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			t := kmsg.NewOffsetFetchRequestGroupTopic()
			t.Topic, t.Partitions = name, byTopic[name]
			if version >= 10 {
				topic, ok := c.topics.ByName(name)
				if !ok {
					continue
				}
				t.TopicID = topic.ID
			}
			sort.Slice(t.Partitions, func(i, j int) bool { return t.Partitions[i] < t.Partitions[j] })
			req.Topics = append(req.Topics, t)
		}
	}
	for _, rt := range req.Topics {
		ot := kmsg.NewOffsetFetchResponseGroupTopic()
		ot.Topic, ot.TopicID = rt.Topic, rt.TopicID
		name, code := rt.Topic, int16(0)
		if version >= 10 {
			if topic, ok := c.topics.ByID(rt.TopicID); ok {
				name = topic.Name
			} else {
				code = kerr.UnknownTopicID.Code
			}
		}
		for _, p := range rt.Partitions {
			op := kmsg.NewOffsetFetchResponseGroupTopicPartition()
			op.Partition, op.Offset, op.LeaderEpoch, op.Metadata, op.ErrorCode = p, -1, -1, kmsg.StringPtr(""), code
			tp := topicPartition{name, p}
			switch v := offsets[tp]; {
			case code != 0:
			case requireStable && c.unstable(req.Group, tp):
				op.ErrorCode = kerr.UnstableOffsetCommit.Code
			case v != nil:
				op.Offset, op.LeaderEpoch, op.Metadata = v.offset, v.leaderEpoch, kmsg.StringPtr(v.metadata)
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		out.Topics = append(out.Topics, ot)
	}
	return out
}

// DeleteOffsets serves an OffsetDelete request: the group's offsets of
// the partitions named are deleted, unless the group is consuming their
// topic. The deletions take effect at once; the returned records make
// them durable.
func (c *Coordinator) DeleteOffsets(req *kmsg.OffsetDeleteRequest) (*kmsg.OffsetDeleteResponse, []Record) {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	e := c.group(req.Group)
	switch {
	case len(req.Group) > maxGroupIDBytes || req.Group == "":
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp, nil
	case e == nil:
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return resp, nil
	}
	subscribed, ok := c.subscribedTopics(e)
	if !ok {
		resp.ErrorCode = kerr.NonEmptyGroup.Code
		return resp, nil
	}
	var records []Record
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetDeleteResponseTopic()
		st.Topic = rt.Topic
		topic, known := c.topics.ByName(rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetDeleteResponseTopicPartition()
			sp.Partition = rp.Partition
			tp := topicPartition{rt.Topic, rp.Partition}
			switch {
			case !known || rp.Partition < 0 || rp.Partition >= topic.Partitions:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case subscribed[rt.Topic]:
				sp.ErrorCode = kerr.GroupSubscribedToTopic.Code
			case e.offsets[tp] != nil:
				delete(e.offsets, tp)
				records = append(records, offsetTombstone(req.Group, tp))
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	c.settle(e)
	return resp, records
}

// subscribedTopics returns the topics the group's members consume; false
// when the group has members whose subscriptions cannot be known (a
// classic group of a protocol type other than "consumer").
func (c *Coordinator) subscribedTopics(e *entry) (map[string]bool, bool) {
	switch {
	case e.consumer != nil:
		return e.consumer.SubscribedTopics(c.topics), true
	case e.classic == nil || len(e.classic.members) == 0:
		return nil, true
	case e.classic.protocolType != "consumer":
		return nil, false
	}
	g := e.classic
	topics := map[string]bool{}
	for _, m := range g.members {
		meta := m.metadata(g.protocol)
		if meta == nil && len(m.protocols) > 0 {
			meta = m.protocols[0].Metadata
		}
		var cm kmsg.ConsumerMemberMetadata
		if err := cm.ReadFrom(meta); err != nil {
			return nil, false
		}
		for _, t := range cm.Topics {
			topics[t] = true
		}
	}
	return topics, true
}

// TopicDeleted deletes every group's offsets of the topic, as Kafka does
// when a topic is deleted, so that a topic created again under the name
// starts without them. The returned records make it durable.
func (c *Coordinator) TopicDeleted(topic string) []Record {
	c.lock()
	defer c.unlock()
	var records []Record
	for _, e := range c.groups {
		for tp := range e.offsets {
			if tp.topic == topic {
				delete(e.offsets, tp)
				records = append(records, offsetTombstone(e.id, tp))
			}
		}
		c.settle(e)
	}
	return records
}

// expireOffsets deletes the offsets past retention: all of a classic
// group's once it has been empty for the retention time, and, for groups
// that never had members of a protocol (simple consumers that only
// commit) and for empty consumer groups, each offset committed longer
// ago than that.
// REQUIRES: c.mu is held.
func (c *Coordinator) expireOffsets(now time.Time) []Record {
	var records []Record
	cutoff := now.Add(-c.cfg.OffsetsRetention)
	for _, e := range c.groups {
		if e.busy() {
			continue
		}
		hadMembers := e.classic != nil && e.classic.protocolType != ""
		emptyLong := hadMembers && !e.classic.emptySince.After(cutoff)
		for tp, v := range e.offsets {
			if emptyLong || !hadMembers && v.commitTime <= cutoff.UnixMilli() {
				delete(e.offsets, tp)
				records = append(records, offsetTombstone(e.id, tp))
			}
		}
		c.settle(e)
	}
	return records
}
