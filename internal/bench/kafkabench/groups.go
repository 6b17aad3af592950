package kafkabench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Group protocols of the groups workload.
const (
	ProtocolEager       = "eager"       // classic protocol, range assignor
	ProtocolCooperative = "cooperative" // classic protocol, cooperative-sticky
	ProtocolConsumer    = "consumer"    // KIP-848, server-side assignment
)

// GroupsConfig configures the groups workload (`weir bench groups`): how
// long Members take to join one group and consume, and how long the group
// takes to consume again once one of them leaves.
type GroupsConfig struct {
	Brokers []string `json:"brokers"`
	// Topic is created with Partitions partitions when absent; it should
	// have at least as many partitions as Members for every member to get
	// some.
	Topic      string `json:"topic"`
	Partitions int32  `json:"partitions"`
	Members    int    `json:"members"`
	// Protocol is eager, cooperative or consumer (KIP-848).
	Protocol          string        `json:"protocol"`
	SessionTimeout    time.Duration `json:"session_timeout_ns"`
	HeartbeatInterval time.Duration `json:"heartbeat_interval_ns"`
	// Timeout bounds each phase.
	Timeout time.Duration `json:"timeout_ns"`
}

// DefaultGroupsConfig returns 100 members, 100 partitions, the
// cooperative protocol.
func DefaultGroupsConfig() GroupsConfig {
	return GroupsConfig{
		Brokers: []string{"127.0.0.1:9092"}, Topic: "weir-bench-groups", Partitions: 100, Members: 100,
		Protocol: ProtocolCooperative, SessionTimeout: 45 * time.Second, HeartbeatInterval: 3 * time.Second,
		Timeout: 5 * time.Minute,
	}
}

// GroupsResult is the outcome of the groups workload.
type GroupsResult struct {
	Workload string       `json:"workload"`
	Config   GroupsConfig `json:"config"`
	Group    string       `json:"group"`
	// Join is from the members' start to the moment every member owned its
	// share of the partitions (at least partitions/members) and every
	// partition's record, produced beforehand, was consumed.
	Join time.Duration `json:"join_ns"`
	// Leave is from one member's leaving (a clean close) to the moment the
	// others owned every partition, each its share, and consumed the
	// record produced to every partition just after.
	Leave time.Duration `json:"leave_ns"`
}

// RunGroups runs the groups workload in a group of its own (its name has
// the time in it).
func RunGroups(ctx context.Context, cfg GroupsConfig) (*GroupsResult, error) {
	if cfg.Members < 2 || cfg.Partitions < 1 {
		return nil, errors.New("groups: at least 2 members and 1 partition")
	}
	var balancer []kgo.Opt
	switch cfg.Protocol {
	case ProtocolEager:
		balancer = []kgo.Opt{kgo.Balancers(kgo.RangeBalancer())}
	case ProtocolCooperative:
		balancer = []kgo.Opt{kgo.Balancers(kgo.CooperativeStickyBalancer())}
	case ProtocolConsumer:
		balancer = []kgo.Opt{kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.ServerSideBalancer()}
	default:
		return nil, fmt.Errorf("groups: protocol %q: want eager, cooperative or consumer", cfg.Protocol)
	}
	admin, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.ClientID(clientID), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	info, partitions, err := prepareTopic(ctx, admin, cfg.Topic, cfg.Partitions, -1, true)
	if err != nil {
		return nil, err
	}
	res := &GroupsResult{Workload: "groups", Config: cfg, Group: fmt.Sprintf("weir-bench-%s-%d", cfg.Protocol, time.Now().UnixNano())}
	res.Config.Partitions = info.Partitions

	t := newGroupTracker()
	produceRound := func(round string) error {
		var rs []*kgo.Record
		for _, p := range partitions {
			rs = append(rs, &kgo.Record{Topic: cfg.Topic, Partition: p, Value: []byte(round)})
		}
		return admin.ProduceSync(ctx, rs...).FirstErr()
	}
	// awaitSettled waits until round's record of every partition was
	// consumed and members members own every partition, each its share.
	awaitSettled := func(round string, members int) error {
		deadline := time.NewTimer(cfg.Timeout)
		defer deadline.Stop()
		for {
			consumed, owned, least := t.state(round)
			if consumed == len(partitions) && owned == len(partitions) && least >= len(partitions)/members {
				return nil
			}
			select {
			case <-t.changed:
			case <-deadline.C:
				return fmt.Errorf("groups: after %v, %d of %d partitions consumed in round %s, %d owned, the least a member owns %d",
					cfg.Timeout, consumed, len(partitions), round, owned, least)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	join := fmt.Sprint("join-", res.Group)
	if err := produceRound(join); err != nil {
		return nil, fmt.Errorf("groups: produce: %w", err)
	}

	type member struct {
		cl   *kgo.Client
		stop context.CancelFunc
		done chan struct{}
	}
	members := make([]*member, cfg.Members)
	defer func() {
		for _, m := range members {
			if m != nil {
				m.stop()
				<-m.done
				m.cl.Close()
			}
		}
	}()
	start := time.Now()
	for i := range members {
		opts := append([]kgo.Opt{
			kgo.SeedBrokers(cfg.Brokers...), kgo.ClientID(clientID),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { t.assigned(i, ps[cfg.Topic]) }),
			kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, ps map[string][]int32) {
				cl.CommitUncommittedOffsets(ctx) // what kgo does without this callback
				t.revoked(i, ps[cfg.Topic])
			}),
			kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { t.revoked(i, ps[cfg.Topic]) }),
			kgo.ConsumerGroup(res.Group), kgo.ConsumeTopics(cfg.Topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.SessionTimeout(cfg.SessionTimeout), kgo.HeartbeatInterval(cfg.HeartbeatInterval),
			// A member given a partition refreshes its metadata, then
			// fetches it once its fetch in flight returns: kgo spaces
			// refreshes by MetadataMinAge and long-polls FetchMaxWait (5 s
			// each by default), which would hide the coordinator's time.
			kgo.MetadataMinAge(100 * time.Millisecond), kgo.FetchMaxWait(100 * time.Millisecond),
		}, balancer...)
		t.joined(i)
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return nil, err
		}
		mctx, cancel := context.WithCancel(ctx)
		m := &member{cl: cl, stop: cancel, done: make(chan struct{})}
		members[i] = m
		go func() {
			defer close(m.done)
			for mctx.Err() == nil {
				cl.PollFetches(mctx).EachRecord(t.consumed)
			}
		}()
	}
	if err := awaitSettled(join, len(members)); err != nil {
		return nil, err
	}
	res.Join = time.Since(start)

	// One member leaves; a new record on every partition shows when the
	// others consume them all again.
	leaving := members[len(members)-1]
	members = members[:len(members)-1]
	leaveStart := time.Now()
	leaving.stop()
	<-leaving.done
	leaving.cl.Close() // leaves the group
	t.left(len(members))
	leave := fmt.Sprint("leave-", res.Group)
	if err := produceRound(leave); err != nil {
		return nil, fmt.Errorf("groups: produce: %w", err)
	}
	if err := awaitSettled(leave, len(members)); err != nil {
		return nil, err
	}
	res.Leave = time.Since(leaveStart)
	return res, nil
}

// WriteJSON writes the result as one indented JSON object.
func (r *GroupsResult) WriteJSON(w io.Writer) error { return writeJSON(w, r) }

// WriteText writes the result for people.
func (r *GroupsResult) WriteText(w io.Writer) error {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "groups: %d members, protocol %s, topic %s (%d partitions) at %s, group %s\n",
		c.Members, c.Protocol, c.Topic, c.Partitions, strings.Join(c.Brokers, ","), r.Group)
	fmt.Fprintf(&b, "  join:  %.3f s until every member owned its share of the partitions and every partition was consumed\n", r.Join.Seconds())
	fmt.Fprintf(&b, "  leave: %.3f s from one member's leaving until the others owned every partition and consumed them again\n", r.Leave.Seconds())
	_, err := io.WriteString(w, b.String())
	return err
}

// groupTracker follows the members' partitions, from their assignment
// callbacks, and the records consumed, by round.
type groupTracker struct {
	mu      sync.Mutex
	owner   map[int32]int             // partition: member
	owns    map[int]int               // member: partitions owned
	seen    map[string]map[int32]bool // round: partitions whose record was consumed
	changed chan struct{}
}

func newGroupTracker() *groupTracker {
	return &groupTracker{owner: map[int32]int{}, owns: map[int]int{}, seen: map[string]map[int32]bool{}, changed: make(chan struct{}, 1)}
}

func (t *groupTracker) notify() {
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

func (t *groupTracker) assigned(member int, ps []int32) {
	t.mu.Lock()
	for _, p := range ps {
		if old, ok := t.owner[p]; ok {
			if old == member {
				continue
			}
			t.owns[old]--
		}
		t.owner[p] = member
		t.owns[member]++
	}
	t.mu.Unlock()
	t.notify()
}

// joined counts a member that owns nothing yet.
func (t *groupTracker) joined(member int) {
	t.mu.Lock()
	t.owns[member] = 0
	t.mu.Unlock()
}

func (t *groupTracker) revoked(member int, ps []int32) {
	t.mu.Lock()
	for _, p := range ps {
		if old, ok := t.owner[p]; ok && old == member {
			delete(t.owner, p)
			t.owns[member]--
		}
	}
	t.mu.Unlock()
	t.notify()
}

// left forgets the members from index members on (gone).
func (t *groupTracker) left(members int) {
	t.mu.Lock()
	for p, m := range t.owner {
		if m >= members {
			delete(t.owner, p)
		}
	}
	for m := range t.owns {
		if m >= members {
			delete(t.owns, m)
		}
	}
	t.mu.Unlock()
	t.notify()
}

func (t *groupTracker) consumed(r *kgo.Record) {
	t.mu.Lock()
	round := string(r.Value)
	if t.seen[round] == nil {
		t.seen[round] = map[int32]bool{}
	}
	t.seen[round][r.Partition] = true
	t.mu.Unlock()
	t.notify()
}

// state returns how many partitions had round's record consumed, how many
// are owned, and the fewest a member owns.
func (t *groupTracker) state(round string) (consumed, owned, least int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	least = -1
	for _, n := range t.owns {
		if least < 0 || n < least {
			least = n
		}
	}
	return len(t.seen[round]), len(t.owner), least
}
