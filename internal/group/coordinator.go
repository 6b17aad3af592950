package group

import (
	"sort"
	"sync"
	"time"

	"github.com/weir-io/weir/internal/group/consumer"
)

// Topic, Topics and Client are package consumer's: the coordinator sees
// the node's topics and its clients the same way for both kinds of group.
type (
	// Topic is one topic: id, name and partition count.
	Topic = consumer.Topic
	// Topics is a read-only view of the node's topics, internal ones
	// excluded.
	Topics = consumer.Topics
	// Client is who sent a request: its client.id and host.
	Client = consumer.Client
)

// Group types, as ListGroups v5 reports them.
const (
	TypeClassic  = "classic"
	TypeConsumer = "consumer"
)

// maxGroupIDBytes is the longest group id: what the key of an offset
// record can hold (an int16-prefixed string).
const maxGroupIDBytes = 32767

// Coordinator is the group coordinator of one node. It is safe for
// concurrent use; reply callbacks run after its lock is released, on the
// goroutine of the call that completed them.
type Coordinator struct {
	cfg    Config
	topics Topics

	mu     sync.Mutex
	groups map[string]*entry
	// active holds the groups that have members or rebalances in
	// progress: the ones Tick must look at.
	active map[string]*entry
	// nextExpiry is when Tick next looks for expired offsets.
	nextExpiry time.Time
	// deferred are replies to run once mu is released.
	deferred []func()
	// seq counts the offsets written, in log order (committed.seq).
	seq uint64
	// pending are transactional offsets waiting for their transaction's
	// marker, by producer id (txn_offsets.go).
	pending map[int64]*pendingTxn
}

// entry is one group: its members (of one kind, or none) and its
// committed offsets.
type entry struct {
	id       string
	classic  *classicGroup   // the group is classic (possibly empty)
	consumer *consumer.Group // the group is a KIP-848 consumer group
	offsets  map[topicPartition]*committed
}

// New returns a coordinator with no groups; Replay loads the committed
// offsets of a previous run.
func New(cfg Config, topics Topics) *Coordinator {
	return &Coordinator{
		cfg:    cfg.withDefaults(),
		topics: topics,
		groups: make(map[string]*entry),
		active: make(map[string]*entry),
	}
}

// lock takes the coordinator's lock; unlock releases it and runs the
// replies deferred meanwhile.
func (c *Coordinator) lock() { c.mu.Lock() }

func (c *Coordinator) unlock() {
	deferred := c.deferred
	c.deferred = nil
	c.mu.Unlock()
	for _, f := range deferred {
		f()
	}
}

// nextSeq returns the next write's sequence number.
// REQUIRES: c.mu is held.
func (c *Coordinator) nextSeq() uint64 {
	c.seq++
	return c.seq
}

// later defers f until the lock is released.
// REQUIRES: c.mu is held.
func (c *Coordinator) later(f func()) { c.deferred = append(c.deferred, f) }

// group returns the group id, or nil.
func (c *Coordinator) group(id string) *entry { return c.groups[id] }

// getOrCreate returns the group id, creating it without members.
func (c *Coordinator) getOrCreate(id string) *entry {
	e := c.groups[id]
	if e == nil {
		e = &entry{id: id, offsets: make(map[topicPartition]*committed)}
		c.groups[id] = e
	}
	return e
}

// settle records whether e needs Tick, and forgets it once it has
// neither members nor offsets.
// REQUIRES: c.mu is held.
func (c *Coordinator) settle(e *entry) {
	if e.busy() {
		c.active[e.id] = e
		return
	}
	delete(c.active, e.id)
	if len(e.offsets) == 0 && c.groups[e.id] == e {
		if e.consumer != nil {
			e.consumer.Delete()
		}
		delete(c.groups, e.id)
	}
}

// busy reports whether the group has members, would-be members or a
// rebalance in progress.
func (e *entry) busy() bool {
	switch {
	case e.classic != nil:
		return e.classic.busy()
	case e.consumer != nil:
		return e.consumer.Len() > 0 || !e.consumer.NextDeadline().IsZero()
	}
	return false
}

// typ returns the group's type: consumer for KIP-848 groups, classic for
// the others (a group with only offsets is classic, as in Kafka).
func (e *entry) typ() string {
	if e.consumer != nil {
		return TypeConsumer
	}
	return TypeClassic
}

// state returns Kafka's name of the group's state.
func (e *entry) state() string {
	switch {
	case e.consumer != nil:
		return e.consumer.State()
	case e.classic != nil:
		return e.classic.state.String()
	}
	return stateEmpty.String()
}

// protocolType returns the group's protocol type.
func (e *entry) protocolType() string {
	switch {
	case e.consumer != nil:
		return "consumer"
	case e.classic != nil:
		return e.classic.protocolType
	}
	return ""
}

// members returns the number of members.
func (e *entry) members() int {
	switch {
	case e.consumer != nil:
		return e.consumer.Len()
	case e.classic != nil:
		return len(e.classic.members)
	}
	return 0
}

// Tick does what is due at now: it expires sessions of classic and
// consumer members, completes rebalances whose time is up, and deletes
// expired offsets. It returns the records that make the deletions durable
// (tombstones), for the caller to write; they are already applied.
func (c *Coordinator) Tick(now time.Time) []Record {
	c.lock()
	defer c.unlock()
	for _, e := range c.active {
		switch {
		case e.classic != nil:
			c.tickClassic(e, now)
		case e.consumer != nil:
			e.consumer.Tick(now, c.topics)
		}
		c.settle(e)
	}
	if now.Before(c.nextExpiry) {
		return nil
	}
	c.nextExpiry = now.Add(c.cfg.OffsetsRetentionCheckInterval)
	return c.expireOffsets(now)
}

// NextDeadline returns the earliest time at which Tick has something to
// do for a group with members (zero when none has).
func (c *Coordinator) NextDeadline() time.Time {
	c.lock()
	defer c.unlock()
	var next time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, e := range c.active {
		switch {
		case e.classic != nil:
			earliest(e.classic.nextDeadline())
		case e.consumer != nil:
			earliest(e.consumer.NextDeadline())
		}
	}
	return next
}

// Summaries describes every group, sorted by id.
func (c *Coordinator) Summaries() []Summary {
	c.lock()
	defer c.unlock()
	out := make([]Summary, 0, len(c.groups))
	for _, e := range c.groups {
		s := Summary{
			Group:        e.id,
			Type:         e.typ(),
			State:        e.state(),
			ProtocolType: e.protocolType(),
			Members:      e.members(),
			Offsets:      make([]CommittedOffset, 0, len(e.offsets)),
		}
		switch {
		case e.classic != nil:
			s.Rebalances = e.classic.rebalances
		case e.consumer != nil:
			s.Rebalances = e.consumer.Rebalances()
		}
		for tp, o := range e.offsets {
			s.Offsets = append(s.Offsets, CommittedOffset{Topic: tp.topic, Partition: tp.partition, Offset: o.offset})
		}
		sort.Slice(s.Offsets, func(i, j int) bool {
			a, b := s.Offsets[i], s.Offsets[j]
			return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
		})
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out
}
