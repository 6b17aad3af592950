package compat

import (
	"context"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/brokertest"
	"github.com/weir-io/weir/internal/group"
)

// featureTimeout bounds one feature of one client, client start-up
// included.
const featureTimeout = 60 * time.Second

// codecs are the compression codecs of Kafka record batches, by the number
// a batch's attributes carry.
var codecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// kgoCodecs are franz-go's codecs by name.
var kgoCodecs = map[string]kgo.CompressionCodec{
	"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
	"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
}

// env is the broker one client's tests run against, and franz-go clients
// of it with which the suite sets topics up and reads back what the client
// under test wrote.
type env struct {
	broker *brokertest.Broker
	addr   string
	admin  *kadm.Client
}

// newEnv starts a broker for one client's tests. Its groups have no
// initial rebalance delay: the groups of txn/offsets have one member,
// which need not wait for others.
func newEnv(t *testing.T) *env {
	t.Helper()
	groups := group.DefaultConfig()
	groups.InitialRebalanceDelay = 0
	b := brokertest.Start(t, broker.Config{Groups: &groups})
	addr := b.Addr().String()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &env{broker: b, addr: addr, admin: kadm.NewClient(cl)}
}

// createTopic creates a topic with franz-go.
func (e *env) createTopic(ctx context.Context, topic string, partitions int32, configs map[string]string) error {
	var ptrs map[string]*string
	if len(configs) > 0 {
		ptrs = make(map[string]*string, len(configs))
		for k, v := range configs {
			ptrs[k] = &v
		}
	}
	resp, err := e.admin.CreateTopic(ctx, partitions, 1, ptrs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("franz-go: create topic %s: %w", topic, err)
	}
	return nil
}

// produce writes records with franz-go under one codec, each to its
// partition, and checks that each got the offset it names. One produce
// request at a time, so that the order in which the broker appends
// requests in flight together (a producer's concern, tested as such) does
// not disturb the set-up of what other clients consume.
func (e *env) produce(ctx context.Context, topic, codec string, records []record) error {
	got, err := franzProduce(ctx, e.addr, topic, codec, records, kgo.MaxProduceRequestsInflightPerBroker(1))
	if err != nil {
		return fmt.Errorf("franz-go: %w", err)
	}
	return checkPositions(got, records)
}

// stored is what franz-go tells of the batch a record was stored in: its
// codec and its producer (-1 for a plain producer's).
type stored struct {
	codec         string
	producerID    int64
	producerEpoch int16
}

// read consumes every partition of a topic with franz-go, from the log
// start to the high watermark, and returns the records in partition and
// offset order with the batch each came in.
func (e *env) read(ctx context.Context, topic string) ([]record, []stored, error) {
	ends, err := e.admin.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, nil, fmt.Errorf("franz-go: list end offsets: %w", err)
	}
	partitions := make(map[int32]kgo.Offset)
	total := int64(0)
	ends.Each(func(o kadm.ListedOffset) {
		partitions[o.Partition] = kgo.NewOffset().AtStart()
		total += o.Offset
	})
	if err := ends.Error(); err != nil {
		return nil, nil, fmt.Errorf("franz-go: list end offsets: %w", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: partitions}),
		kgo.ConsumeResetOffset(kgo.NoResetOffset()))
	if err != nil {
		return nil, nil, err
	}
	defer cl.Close()
	type read struct {
		r     record
		batch stored
	}
	var all []read
	for int64(len(all)) < total {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			return nil, nil, fmt.Errorf("franz-go: read %s after %d of %d records: %w", topic, len(all), total, err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			all = append(all, read{fromKgo(r), stored{codecs[r.Attrs.CompressionType()], r.ProducerID, r.ProducerEpoch}})
		})
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i].r, all[j].r
		return a.Partition < b.Partition || a.Partition == b.Partition && a.Offset < b.Offset
	})
	got := make([]record, len(all))
	batches := make([]stored, len(all))
	for i, x := range all {
		got[i], batches[i] = x.r, x.batch
	}
	return got, batches, nil
}

// topicPartitions reports whether the broker has the topic, and its
// partition count, straight from the storage engine.
func (e *env) topicPartitions(topic string) (int32, bool) {
	info, err := e.broker.Engine.Topic(topic)
	if err != nil {
		return 0, false
	}
	return info.Partitions, true
}

// fromKgo converts a franz-go record.
func fromKgo(r *kgo.Record) record {
	out := record{Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp.UnixMilli(), Headers: []header{}}
	for _, h := range r.Headers {
		out.Headers = append(out.Headers, header{Key: h.Key, Value: h.Value})
	}
	return out
}

// checkPositions compares the positions a client reported for produced
// records with the partitions and offsets the records name.
func checkPositions(got []position, records []record) error {
	if len(got) != len(records) {
		return fmt.Errorf("%d positions reported for %d records", len(got), len(records))
	}
	for i, r := range records {
		if got[i] != (position{r.Partition, r.Offset}) {
			return fmt.Errorf("record %d landed at partition %d offset %d, want partition %d offset %d", i, got[i].Partition, got[i].Offset, r.Partition, r.Offset)
		}
	}
	return nil
}

// inCI reports whether the tests run under CI (CI=true, as .ci/run sets),
// where a missing client is a failure rather than a skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// requireTool skips the test when a client's runtime is missing, or fails
// it under CI, which must have installed everything.
func requireTool(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if inCI() {
		t.Fatalf("%v (CI=true: .ci/run must install it)", err)
	}
	t.Skipf("%v (.ci/run installs it)", err)
}
