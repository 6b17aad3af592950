package metrics

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/brokertest"
	"github.com/weir-io/weir/internal/group"
	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage"
)

// fakeGroups is a GroupSource whose summaries the test sets.
type fakeGroups struct {
	mu        sync.Mutex
	summaries []group.Summary
}

func (f *fakeGroups) Summaries() []group.Summary {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.summaries
}

func (f *fakeGroups) set(s ...group.Summary) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.summaries = s
}

// openEngine opens a storage engine in a temporary directory and writes
// counts[i] records to partition i of topic, each write durable, so that
// the partitions' high watermarks are the counts.
func openEngine(t *testing.T, topic string, counts ...int) *storage.Engine {
	t.Helper()
	e, err := storage.Open(storage.Options{Dir: t.TempDir(), CleanerInterval: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	if _, err := e.CreateTopic(topic, int32(len(counts)), storage.DefaultTopicConfig()); err != nil {
		t.Fatal(err)
	}
	for i, n := range counts {
		p, err := e.Partition(topic, int32(i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.AppendDurable(context.Background(), recordsBatch(t, n)); err != nil {
			t.Fatal(err)
		}
		if hw := p.Offsets().HighWatermark; hw != int64(n) {
			t.Fatalf("partition %d: high watermark %d after %d records", i, hw, n)
		}
	}
	return e
}

// recordsBatch builds an uncompressed batch of n small records.
func recordsBatch(t *testing.T, n int) []byte {
	t.Helper()
	records := make([]kmsg.Record, n)
	for i := range records {
		records[i] = kmsg.NewRecord()
		records[i].OffsetDelta = int32(i)
		records[i].Value = []byte("v")
	}
	b, err := recordbatch.Build(recordbatch.Header{
		PartitionLeaderEpoch: -1, LastOffsetDelta: int32(n - 1), BaseTimestamp: 1, MaxTimestamp: 1,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
	}, records)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGroupMetrics(t *testing.T) {
	engine := openEngine(t, "orders", 10, 4) // high watermarks 10 and 4
	src := &fakeGroups{}
	src.set(
		group.Summary{Group: "billing", Type: "classic", State: "Stable", ProtocolType: "consumer", Members: 3, Rebalances: 5,
			Offsets: []group.CommittedOffset{
				{Topic: "orders", Partition: 0, Offset: 7},
				{Topic: "orders", Partition: 1, Offset: 6},  // past the high watermark
				{Topic: "deleted", Partition: 0, Offset: 2}, // a topic the engine no longer has
			}},
		group.Summary{Group: "audit", Type: "consumer", State: "Stable", ProtocolType: "consumer", Members: 1, Rebalances: 2,
			Offsets: []group.CommittedOffset{{Topic: "orders", Partition: 0, Offset: 0}}},
		group.Summary{Group: "idle", Type: "classic", State: "Empty"},
	)
	m := New("test")
	m.WatchGroups(src, engine)
	t.Cleanup(func() { m.WatchGroups(nil, nil) })
	base := serveMetrics(t, m)

	s := scrapeMetrics(t, base)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"weir_group_members", []string{"group", "billing"}, 3},
		{"weir_group_members", []string{"group", "audit"}, 1},
		{"weir_group_members", []string{"group", "idle"}, 0},
		{"weir_group_state", []string{"group", "billing", "type", "classic", "state", "Stable"}, 1},
		{"weir_group_state", []string{"group", "audit", "type", "consumer", "state", "Stable"}, 1},
		{"weir_group_state", []string{"group", "idle", "type", "classic", "state", "Empty"}, 1},
		{"weir_group_rebalances_total", []string{"group", "billing"}, 5},
		{"weir_group_rebalances_total", []string{"group", "idle"}, 0},
		{"weir_group_committed_offset", []string{"group", "billing", "topic", "orders", "partition", "0"}, 7},
		{"weir_group_committed_offset", []string{"group", "billing", "topic", "orders", "partition", "1"}, 6},
		{"weir_group_committed_offset", []string{"group", "billing", "topic", "deleted", "partition", "0"}, 2},
		{"weir_group_lag", []string{"group", "billing", "topic", "orders", "partition", "0"}, 3},
		{"weir_group_lag", []string{"group", "billing", "topic", "orders", "partition", "1"}, 0}, // never negative
		{"weir_group_lag", []string{"group", "audit", "topic", "orders", "partition", "0"}, 10},
		{"weir_groups", []string{"type", "classic", "state", "Stable"}, 1},
		{"weir_groups", []string{"type", "classic", "state", "Empty"}, 1},
		{"weir_groups", []string{"type", "consumer", "state", "Stable"}, 1},
	} {
		if got := s.value(t, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, absent := range []struct {
		name   string
		labels map[string]string
	}{
		{"weir_group_lag", map[string]string{"topic": "deleted"}},                     // no partition to measure against
		{"weir_group_state", map[string]string{"group": "billing", "state": "Empty"}}, // only the current state
		{"weir_group_committed_offset", map[string]string{"group": "idle"}},
	} {
		if _, ok := s.metric(absent.name, absent.labels); ok {
			t.Errorf("%s%v reported", absent.name, absent.labels)
		}
	}
	if f := s["weir_group_rebalances_total"]; f.GetType().String() != "COUNTER" {
		t.Errorf("weir_group_rebalances_total is a %v", f.GetType())
	}

	// The next scrape reads the groups again: a rebalance, a commit,
	// records written, a group gone.
	src.set(group.Summary{Group: "billing", Type: "classic", State: "PreparingRebalance", ProtocolType: "consumer", Members: 2, Rebalances: 6,
		Offsets: []group.CommittedOffset{{Topic: "orders", Partition: 0, Offset: 9}}})
	p, err := engine.Partition("orders", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AppendDurable(context.Background(), recordsBatch(t, 5)); err != nil {
		t.Fatal(err)
	}
	s = scrapeMetrics(t, base)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"weir_group_members", []string{"group", "billing"}, 2},
		{"weir_group_state", []string{"group", "billing", "state", "PreparingRebalance"}, 1},
		{"weir_group_rebalances_total", []string{"group", "billing"}, 6},
		{"weir_group_lag", []string{"group", "billing", "topic", "orders", "partition", "0"}, 6}, // 15 - 9
		{"weir_groups", []string{"type", "classic", "state", "PreparingRebalance"}, 1},
	} {
		if got := s.value(t, c.name, c.labels...); got != c.want {
			t.Errorf("after changes: %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, gone := range []map[string]string{
		{"group": "audit"}, {"group": "idle"}, {"group": "billing", "state": "Stable"}, {"group": "billing", "partition": "1"},
	} {
		for _, name := range []string{"weir_group_members", "weir_group_state", "weir_group_committed_offset", "weir_group_lag"} {
			if _, ok := s.metric(name, gone); ok {
				t.Errorf("after changes: %s%v still reported", name, gone)
			}
		}
	}
	if _, ok := s.metric("weir_groups", map[string]string{"state": "Stable"}); ok {
		t.Errorf("after changes: weir_groups counts Stable groups")
	}

	// Watching again replaces the source; without an engine there is no
	// lag; nil stops the group series.
	m.WatchGroups(src, nil)
	s = scrapeMetrics(t, base)
	if got := s.value(t, "weir_group_committed_offset", "group", "billing", "partition", "0"); got != 9 {
		t.Errorf("without an engine: committed offset %v", got)
	}
	if _, ok := s["weir_group_lag"]; ok {
		t.Errorf("lag reported without an engine")
	}
	m.WatchGroups(nil, nil)
	s = scrapeMetrics(t, base)
	for _, name := range []string{"weir_groups", "weir_group_members", "weir_group_state", "weir_group_rebalances_total", "weir_group_committed_offset"} {
		if _, ok := s[name]; ok {
			t.Errorf("%s reported after WatchGroups(nil, nil)", name)
		}
	}
	if _, ok := s["weir_build_info"]; !ok {
		t.Errorf("the other metrics went away too")
	}
}

// The group coordinator is what serve.go watches.
var _ GroupSource = (*group.Coordinator)(nil)

// TestGroupMetricsFromBroker watches a real broker's coordinator while a
// consumer group reads and commits.
func TestGroupMetricsFromBroker(t *testing.T) {
	m := New("test")
	// No wait for more members before the first rebalance.
	b := brokertest.StartWith(t, broker.Config{Observer: m.Broker(), Groups: &group.Config{}}, storage.Options{Dir: t.TempDir()})
	m.WatchGroups(b.Groups(), b.Engine)
	t.Cleanup(func() { m.WatchGroups(nil, nil) })
	base := serveMetrics(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	producer, err := kgo.NewClient(kgo.SeedBrokers(b.Addr().String()), kgo.DisableIdempotentWrite(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	if _, err := kadm.NewClient(producer).CreateTopic(ctx, 2, 1, nil, "events"); err != nil {
		t.Fatal(err)
	}
	for p, n := range []int{6, 2} {
		for range n {
			if err := producer.ProduceSync(ctx, &kgo.Record{Topic: "events", Partition: int32(p), Value: []byte("v")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(b.Addr().String()), kgo.ConsumerGroup("reader"), kgo.ConsumeTopics("events"),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	for got := 0; got < 8; {
		fetches := consumer.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			t.Fatal(err)
		}
		got += fetches.NumRecords()
	}
	var commitErr error
	consumer.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{"events": {0: {Epoch: -1, Offset: 4}, 1: {Epoch: -1, Offset: 2}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
			commitErr = err
		})
	if commitErr != nil {
		t.Fatal(commitErr)
	}

	s := scrapeMetrics(t, base)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"weir_group_members", []string{"group", "reader"}, 1},
		{"weir_group_state", []string{"group", "reader", "type", "classic", "state", "Stable"}, 1},
		{"weir_group_committed_offset", []string{"group", "reader", "topic", "events", "partition", "0"}, 4},
		{"weir_group_lag", []string{"group", "reader", "topic", "events", "partition", "0"}, 2},
		{"weir_group_lag", []string{"group", "reader", "topic", "events", "partition", "1"}, 0},
		{"weir_groups", []string{"type", "classic", "state", "Stable"}, 1},
	} {
		if got := s.value(t, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := s.value(t, "weir_group_rebalances_total", "group", "reader"); n < 1 {
		t.Errorf("rebalances %v: the member's join was not counted", n)
	}
}
