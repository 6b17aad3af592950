package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/group"
	"github.com/weir-io/weir/internal/storage"
)

// testGroups is the coordinator's configuration in tests: short
// timeouts, so that a killed member's partitions move within seconds.
func testGroups() *group.Config {
	cfg := group.DefaultConfig()
	cfg.InitialRebalanceDelay = 100 * time.Millisecond
	cfg.MinSessionTimeout = 500 * time.Millisecond
	cfg.Consumer.SessionTimeout = 3 * time.Second
	cfg.Consumer.HeartbeatInterval = 200 * time.Millisecond
	return &cfg
}

// killableDialer hands out connections it can cut all at once, and then
// refuses new ones: what a client sees of its own SIGKILL, seen from the
// broker (no LeaveGroup, connections gone).
type killableDialer struct {
	mu     sync.Mutex
	conns  []net.Conn
	killed bool
}

func (d *killableDialer) dial(ctx context.Context, network, host string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.killed {
		return nil, errors.New("killed")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *killableDialer) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.killed = true
	for _, c := range d.conns {
		c.Close()
	}
}

// ownership checks that no partition is owned by two live members at
// once, and records every record consumed.
type ownership struct {
	t        *testing.T
	mu       sync.Mutex
	owner    map[int32]string
	dead     map[string]bool
	consumed map[int32]map[int64]bool
}

func (o *ownership) assigned(member string, ps map[string][]int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, list := range ps {
		for _, p := range list {
			if cur, ok := o.owner[p]; ok && cur != member && !o.dead[cur] {
				o.t.Errorf("partition %d given to %s while %s owns it", p, member, cur)
			}
			o.owner[p] = member
		}
	}
}

func (o *ownership) revoked(member string, ps map[string][]int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, list := range ps {
		for _, p := range list {
			if o.owner[p] == member {
				delete(o.owner, p)
			}
		}
	}
}

func (o *ownership) consume(r *kgo.Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.consumed[r.Partition] == nil {
		o.consumed[r.Partition] = map[int64]bool{}
	}
	o.consumed[r.Partition][r.Offset] = true
}

func (o *ownership) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, offs := range o.consumed {
		n += len(offs)
	}
	return n
}

// TestGroupProtocols runs three franz-go members of a group through
// joins, a kill and more records, with each group protocol: every record
// is consumed, no partition has two live owners.
func TestGroupProtocols(t *testing.T) {
	tests := []struct {
		name string
		opts []kgo.Opt
	}{
		{"eager range", []kgo.Opt{kgo.Balancers(kgo.RangeBalancer())}},
		{"cooperative sticky", []kgo.Opt{kgo.Balancers(kgo.CooperativeStickyBalancer())}},
		{"kip-848", []kgo.Opt{kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.ServerSideBalancer()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := startBroker(t, Config{Groups: testGroups()})
			const partitions, perRound = 6, 600
			admin := adminClient(t, b)
			if _, err := admin.CreateTopic(context.Background(), partitions, 1, nil, "events"); err != nil {
				t.Fatal(err)
			}
			producer := client(t, b)
			produce := func() {
				var rs []*kgo.Record
				for i := range perRound {
					rs = append(rs, &kgo.Record{Topic: "events", Partition: int32(i % partitions), Value: []byte("v")})
				}
				if err := producer.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			produce()
			o := &ownership{t: t, owner: map[int32]string{}, dead: map[string]bool{}, consumed: map[int32]map[int64]bool{}}
			type member struct {
				cl     *kgo.Client
				dialer *killableDialer
				cancel context.CancelFunc
				done   chan struct{}
			}
			start := func(name string) *member {
				d := &killableDialer{}
				opts := append([]kgo.Opt{
					kgo.ConsumerGroup("g"), kgo.ConsumeTopics("events"), kgo.Dialer(d.dial),
					kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
					kgo.SessionTimeout(1500 * time.Millisecond), kgo.HeartbeatInterval(200 * time.Millisecond),
					kgo.AutoCommitInterval(200 * time.Millisecond),
					kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { o.assigned(name, ps) }),
					kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, ps map[string][]int32) {
						// What kgo does when the callback is not overridden:
						// commit before giving the partitions up.
						cl.CommitUncommittedOffsets(ctx)
						o.revoked(name, ps)
					}),
					kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { o.revoked(name, ps) }),
				}, tt.opts...)
				cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr().String())}, opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				m := &member{cl: cl, dialer: d, cancel: cancel, done: make(chan struct{})}
				go func() {
					defer close(m.done)
					for ctx.Err() == nil {
						fs := cl.PollFetches(ctx)
						fs.EachRecord(o.consume)
					}
				}()
				return m
			}
			stop := func(m *member) {
				m.cancel()
				<-m.done
				m.cl.Close()
			}
			waitFor := func(what string, cond func() bool) {
				t.Helper()
				deadline := time.Now().Add(30 * time.Second)
				for !cond() {
					if time.Now().After(deadline) {
						t.Fatalf("timed out waiting for %s", what)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			members := []*member{start("a"), start("b"), start("c")}
			waitFor("the first records", func() bool { return o.count() == perRound })

			// Kill b: no LeaveGroup, its connections gone. Its partitions
			// move once its session ends.
			o.mu.Lock()
			o.dead["b"] = true
			o.mu.Unlock()
			members[1].dialer.kill()
			stop(members[1])
			produce()
			waitFor("the records after the kill", func() bool { return o.count() == 2*perRound })
			waitFor("the group to settle with two members", func() bool {
				for _, s := range b.Groups().Summaries() {
					if s.Group == "g" {
						return s.Members == 2 && s.State == "Stable"
					}
				}
				return false
			})
			// The members commit what they consumed (autocommit): the
			// committed offsets reach the ends, and stay there once the
			// members have left.
			committedToEnds := func() bool {
				offsets, err := admin.FetchOffsets(context.Background(), "g")
				if err != nil {
					return false
				}
				for p := int32(0); p < partitions; p++ {
					if o, ok := offsets.Lookup("events", p); !ok || o.At != 2*perRound/partitions {
						return false
					}
				}
				return true
			}
			waitFor("every offset committed", committedToEnds)
			stop(members[0])
			stop(members[2])
			if !committedToEnds() {
				t.Error("committed offsets moved when the members left")
			}
		})
	}
}

// TestStaticMemberRestart: a static member that comes back within its
// session timeout takes its place again without a rebalance.
func TestStaticMemberRestart(t *testing.T) {
	b := startBroker(t, Config{Groups: testGroups()})
	admin := adminClient(t, b)
	if _, err := admin.CreateTopic(context.Background(), 4, 1, nil, "events"); err != nil {
		t.Fatal(err)
	}
	member := func(instance string) *kgo.Client {
		return client(t, b, kgo.ConsumerGroup("static"), kgo.ConsumeTopics("events"), kgo.InstanceID(instance),
			kgo.SessionTimeout(10*time.Second), kgo.HeartbeatInterval(200*time.Millisecond))
	}
	rebalances := func() (uint64, string, int) {
		for _, s := range b.Groups().Summaries() {
			if s.Group == "static" {
				return s.Rebalances, s.State, s.Members
			}
		}
		return 0, "", 0
	}
	a, bb := member("a"), member("b")
	pollUntilAssigned := func(cl *kgo.Client) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		cl.PollFetches(ctx)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		pollUntilAssigned(a)
		pollUntilAssigned(bb)
		if _, state, n := rebalances(); state == "Stable" && n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the group never settled")
		}
	}
	before, _, _ := rebalances()
	bb.Close() // a static member does not leave the group when it closes
	again := member("b")
	for range 20 {
		pollUntilAssigned(again)
		pollUntilAssigned(a)
	}
	if after, state, n := rebalances(); after != before || state != "Stable" || n != 2 {
		t.Errorf("after the static member came back: %d rebalances (were %d), %s, %d members", after, before, state, n)
	}
}

// TestCommitsSurviveRestart: offsets committed before a clean restart are
// there after it, and a deleted group's are not.
func TestCommitsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	run := func(f func(b *Broker, admin *kadm.Client)) {
		e, err := storage.Open(storage.Options{Dir: dir, CleanerInterval: -1, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Listen(Config{Listen: "127.0.0.1:0", Logger: quiet, Groups: testGroups()}, e)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- b.Serve(ctx) }()
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr().String()))
		if err != nil {
			t.Fatal(err)
		}
		f(b, kadm.NewClient(cl))
		cl.Close()
		cancel()
		if err := <-served; err != nil {
			t.Fatal(err)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	run(func(b *Broker, admin *kadm.Client) {
		ctx := context.Background()
		if _, err := admin.CreateTopic(ctx, 3, 1, nil, "t"); err != nil {
			t.Fatal(err)
		}
		for i, g := range []string{"keep", "gone"} {
			var os kadm.Offsets
			for p := int32(0); p < 3; p++ {
				os.Add(kadm.Offset{Topic: "t", Partition: p, At: int64(10*i) + int64(p), LeaderEpoch: -1, Metadata: fmt.Sprint("m", p)})
			}
			if err := admin.CommitAllOffsets(ctx, g, os); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := admin.DeleteGroup(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
	})
	run(func(b *Broker, admin *kadm.Client) {
		ctx := context.Background()
		keep, err := admin.FetchOffsets(ctx, "keep")
		if err != nil {
			t.Fatal(err)
		}
		for p := int32(0); p < 3; p++ {
			o, ok := keep.Lookup("t", p)
			if !ok || o.At != int64(p) || o.Metadata != fmt.Sprint("m", p) {
				t.Errorf("partition %d after restart: %+v", p, o)
			}
		}
		listed, err := admin.ListGroups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := listed.Groups(); len(got) != 1 || got[0] != "keep" {
			t.Errorf("groups after restart: %v", got)
		}
	})
}

// TestGroupBadInput: requests that name bad groups, members or
// generations get their error codes and change nothing of other groups.
func TestGroupBadInput(t *testing.T) {
	b := startBroker(t, Config{Groups: testGroups()})
	cl := client(t, b)
	ctx := context.Background()
	admin := kadm.NewClient(cl)
	if _, err := admin.CreateTopic(ctx, 1, 1, nil, "t"); err != nil {
		t.Fatal(err)
	}
	if err := admin.CommitAllOffsets(ctx, "good", kadm.OffsetsFromRecords(kgo.Record{Topic: "t", Partition: 0, Offset: 4})); err != nil {
		t.Fatal(err)
	}
	long := string(make([]byte, 40000))
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis, join.ProtocolType = "", 10000, 10000, "consumer"
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = "good", "nobody", 1
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Group, commit.MemberID, commit.Generation = "good", "nobody", 7
	commit.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 99}}}}
	longCommit := kmsg.NewPtrOffsetCommitRequest()
	longCommit.Group, longCommit.Generation = long, -1
	longCommit.Topics = commit.Topics
	describe := kmsg.NewPtrDescribeGroupsRequest()
	describe.Groups = []string{"never-seen"}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.MemberID, sync.Generation = "good", "nobody", 1
	tests := []struct {
		name string
		req  kmsg.Request
		code func(kmsg.Response) int16
		want int16
	}{
		{"join with an empty group id", join, func(r kmsg.Response) int16 { return r.(*kmsg.JoinGroupResponse).ErrorCode }, kerr.InvalidGroupID.Code},
		{"heartbeat of an unknown member", hb, func(r kmsg.Response) int16 { return r.(*kmsg.HeartbeatResponse).ErrorCode }, kerr.UnknownMemberID.Code},
		{"sync of an unknown member", sync, func(r kmsg.Response) int16 { return r.(*kmsg.SyncGroupResponse).ErrorCode }, kerr.UnknownMemberID.Code},
		{"commit with a generation the group never had", commit, func(r kmsg.Response) int16 {
			return r.(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
		}, kerr.IllegalGeneration.Code},
		{"commit to a 40,000-byte group id", longCommit, func(r kmsg.Response) int16 {
			return r.(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
		}, kerr.InvalidGroupID.Code},
		{"describe of an unknown group", describe, func(r kmsg.Response) int16 {
			g := r.(*kmsg.DescribeGroupsResponse).Groups[0]
			if g.State != "Dead" {
				return -100
			}
			return g.ErrorCode
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := cl.Request(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.code(resp); got != tt.want {
				t.Errorf("got %v, want %v", kerr.ErrorForCode(got), kerr.ErrorForCode(tt.want))
			}
		})
	}
	offsets, err := admin.FetchOffsets(ctx, "good")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := offsets.Lookup("t", 0); o.At != 5 { // the record's offset + 1
		t.Errorf("good's offset after the bad requests: %+v", o)
	}
	// The offsets topic is the broker's: clients cannot write or delete it.
	res := cl.ProduceSync(ctx, &kgo.Record{Topic: group.OffsetsTopic, Value: []byte("x")})
	if !errors.Is(res.FirstErr(), kerr.InvalidTopicException) {
		t.Errorf("produce to %s: %v", group.OffsetsTopic, res.FirstErr())
	}
	if resp, _ := admin.DeleteTopics(ctx, group.OffsetsTopic); !errors.Is(resp[group.OffsetsTopic].Err, kerr.InvalidTopicException) {
		t.Errorf("delete %s: %v", group.OffsetsTopic, resp[group.OffsetsTopic].Err)
	}
}

// TestConsumerGroupRegex: a KIP-848 member subscribed by regular
// expression gets the matching topics, and one created later too.
func TestConsumerGroupRegex(t *testing.T) {
	b := startBroker(t, Config{Groups: testGroups()})
	admin := adminClient(t, b)
	ctx := context.Background()
	for _, topic := range []string{"metrics-a", "other"} {
		if _, err := admin.CreateTopic(ctx, 2, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	owned := map[string]int{}
	cl := client(t, b, kgo.ConsumerGroup("re"), kgo.ConsumeRegex(), kgo.ConsumeTopics("metrics-.*"),
		kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.ServerSideBalancer(), kgo.MetadataMinAge(100*time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			mu.Lock()
			defer mu.Unlock()
			for topic, list := range ps {
				owned[topic] += len(list)
			}
		}))
	deadline := time.Now().Add(30 * time.Second)
	created := false
	for {
		pollCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		cl.PollFetches(pollCtx)
		cancel()
		mu.Lock()
		a, bb, other := owned["metrics-a"], owned["metrics-b"], owned["other"]
		mu.Unlock()
		if other != 0 {
			t.Fatalf("assigned %d partitions of a topic the expression does not match", other)
		}
		if a == 2 && !created {
			if _, err := admin.CreateTopic(ctx, 3, 1, nil, "metrics-b"); err != nil {
				t.Fatal(err)
			}
			created = true
		}
		if a == 2 && bb == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("owned %v", owned)
		}
	}
	described, err := admin.DescribeConsumerGroups(ctx, "re")
	if err != nil {
		t.Fatal(err)
	}
	g := described["re"]
	if g.Err != nil || len(g.Members) != 1 || g.State != "Stable" {
		t.Errorf("described %+v", g)
	}
}
