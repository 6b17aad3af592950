package group

// Transactional offset commits (TxnOffsetCommit): the offsets a
// transaction commits wait, staged by producer id, until the
// transaction's marker reaches the offsets topic: a commit marker applies
// them (unless an offset was written to the same partition after them), an
// abort marker drops them. Until then OffsetFetch with require_stable
// answers UNSTABLE_OFFSET_COMMIT for their partitions (KIP-447), and
// without it the last committed offset.
//
// In the offsets topic they are the same records as other commits, in a
// transactional batch of the producer; Replay sees them through
// ReplayTxn, and their markers through CompleteTxn, in log order.

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// pendingTxn is a producer's staged offsets.
type pendingTxn struct {
	offsets map[string]map[topicPartition]committed // group: partition: offset
}

// TxnCommit is a TxnOffsetCommit the coordinator accepted, not yet
// written: as Commit, but its Records go in a transactional batch of
// ProducerID (and epoch), and FinishTxnOffsetCommit stages them.
type TxnCommit struct {
	// Response is the answer once FinishTxnOffsetCommit has run.
	Response *kmsg.TxnOffsetCommitResponse
	// Records are the offsets' records.
	Records []Record
	// ProducerID and ProducerEpoch are the batch's.
	ProducerID    int64
	ProducerEpoch int16

	group   string
	offsets []commitOffset
}

// PrepareTxnOffsetCommit checks a TxnOffsetCommit: the member (from
// version 3, Kafka's checks of OffsetCommit, except that a commit without
// a generation is always allowed and a group completing a rebalance is
// not refused), the topics and the metadata sizes. Whether the producer
// may commit in its transaction is the transaction coordinator's
// question; the caller asks it first.
func (c *Coordinator) PrepareTxnOffsetCommit(now time.Time, req *kmsg.TxnOffsetCommitRequest) *TxnCommit {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	tc := &TxnCommit{Response: resp, ProducerID: req.ProducerID, ProducerEpoch: req.ProducerEpoch, group: req.Group}
	code := c.validateTxnCommit(req)
	for ti, rt := range req.Topics {
		st := kmsg.NewTxnOffsetCommitResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		topicCode := code
		var topic Topic
		if topicCode == 0 {
			var ok bool
			if req.Version >= 6 {
				if topic, ok = c.topics.ByID(rt.TopicID); !ok {
					topicCode = kerr.UnknownTopicID.Code
				}
			} else if topic, ok = c.topics.ByName(rt.Topic); !ok {
				topicCode = kerr.UnknownTopicOrPartition.Code
			}
		}
		for pi, rp := range rt.Partitions {
			sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			sp.Partition, sp.ErrorCode = rp.Partition, topicCode
			switch {
			case sp.ErrorCode != 0:
			case rp.Partition < 0 || rp.Partition >= topic.Partitions:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case rp.Metadata != nil && len(*rp.Metadata) > c.cfg.OffsetMetadataMaxBytes:
				sp.ErrorCode = kerr.OffsetMetadataTooLarge.Code
			default:
				v := committed{offset: rp.Offset, leaderEpoch: -1, commitTime: now.UnixMilli()}
				if req.Version >= 2 {
					v.leaderEpoch = rp.LeaderEpoch
				}
				if rp.Metadata != nil {
					v.metadata = *rp.Metadata
				}
				tp := topicPartition{topic.Name, rp.Partition}
				tc.offsets = append(tc.offsets, commitOffset{tp: tp, value: v, ti: ti, pi: pi})
				tc.Records = append(tc.Records, offsetRecord(req.Group, tp, v))
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return tc
}

// validateTxnCommit checks who commits in a transaction.
// REQUIRES: c.mu is held.
func (c *Coordinator) validateTxnCommit(req *kmsg.TxnOffsetCommitRequest) int16 {
	if req.Group == "" || len(req.Group) > maxGroupIDBytes {
		return kerr.InvalidGroupID.Code
	}
	generation, member := req.Generation, req.MemberID
	if req.Version < 3 {
		generation, member = -1, ""
	}
	named := generation >= 0 || member != "" || req.InstanceID != nil
	e := c.group(req.Group)
	switch {
	case e != nil && e.consumer != nil:
		return e.consumer.ValidateTxnOffsetCommit(member, generation)
	case !named:
		return 0
	case e == nil || e.classic == nil:
		return kerr.IllegalGeneration.Code
	}
	g := e.classic
	switch {
	case g.fencedInstance(req.InstanceID, member):
		return kerr.FencedInstanceID.Code
	case g.members[member] == nil:
		return kerr.UnknownMemberID.Code
	case generation != g.generation:
		return kerr.IllegalGeneration.Code
	}
	return 0
}

// FinishTxnOffsetCommit ends a transactional commit once its records
// were appended: with code 0 the offsets are staged in the producer's
// transaction; otherwise every partition of it gets code.
func (c *Coordinator) FinishTxnOffsetCommit(tc *TxnCommit, code int16) {
	if code != 0 {
		tc.Fail(code)
		return
	}
	if len(tc.offsets) == 0 {
		return
	}
	c.lock()
	defer c.unlock()
	for _, o := range tc.offsets {
		v := o.value
		c.stage(tc.ProducerID, tc.group, o.tp, v)
	}
}

// Fail gives every accepted partition of the commit an error code.
func (tc *TxnCommit) Fail(code int16) {
	for _, o := range tc.offsets {
		tc.Response.Topics[o.ti].Partitions[o.pi].ErrorCode = code
	}
}

// stage records a transactional offset of producerID.
// REQUIRES: c.mu is held.
func (c *Coordinator) stage(producerID int64, group string, tp topicPartition, v committed) {
	if c.pending == nil {
		c.pending = make(map[int64]*pendingTxn)
	}
	p := c.pending[producerID]
	if p == nil {
		p = &pendingTxn{offsets: make(map[string]map[topicPartition]committed)}
		c.pending[producerID] = p
	}
	if p.offsets[group] == nil {
		p.offsets[group] = make(map[topicPartition]committed)
	}
	v.seq = c.nextSeq()
	p.offsets[group][tp] = v
}

// CompleteTxn applies (commit) or drops (abort) the offsets producerID
// staged, once the transaction's marker is in the offsets topic: at run
// time after the broker wrote it, at start when Replay reaches it. An
// offset written to the same partition after the staged one stays.
func (c *Coordinator) CompleteTxn(producerID int64, commit bool) {
	c.lock()
	defer c.unlock()
	p := c.pending[producerID]
	if p == nil {
		return
	}
	delete(c.pending, producerID)
	if !commit {
		return
	}
	for group, offsets := range p.offsets {
		e := c.getOrCreate(group)
		for tp, v := range offsets {
			if cur := e.offsets[tp]; cur == nil || cur.seq < v.seq {
				v := v
				e.offsets[tp] = &v
			}
		}
		c.settle(e)
	}
}

// ReplayTxn stages one offset record of a transactional batch of
// producerID read back at start; the transaction's marker, later in the
// log, completes it (CompleteTxn). Records it does not know are skipped.
func (c *Coordinator) ReplayTxn(producerID int64, key, value []byte) error {
	if len(key) < 2 || value == nil {
		return nil
	}
	if version := int16(key[0])<<8 | int16(key[1]); version != 0 && version != 1 {
		return nil
	}
	var k kmsg.OffsetCommitKey
	if err := k.ReadFrom(key); err != nil {
		return err
	}
	var v kmsg.OffsetCommitValue
	if err := v.ReadFrom(value); err != nil {
		return err
	}
	epoch := v.LeaderEpoch
	if v.Version < 3 {
		epoch = -1
	}
	c.lock()
	defer c.unlock()
	c.stage(producerID, k.Group, topicPartition{k.Topic, k.Partition}, committed{offset: v.Offset, leaderEpoch: epoch, metadata: v.Metadata, commitTime: v.CommitTimestamp})
	return nil
}

// unstable reports whether a transaction has staged an offset of the
// group's partition.
// REQUIRES: c.mu is held.
func (c *Coordinator) unstable(group string, tp topicPartition) bool {
	for _, p := range c.pending {
		if _, ok := p.offsets[group][tp]; ok {
			return true
		}
	}
	return false
}
