package compat

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestFranzGo runs the suite with franz-go (kgo and kadm), the client the
// suite itself checks with: the baseline of the table.
func TestFranzGo(t *testing.T) {
	t.Parallel()
	runSuite(t, &client{
		name:         "franz-go",
		pastEndIsEnd: true,
		groups:       franzGroups,
		groupCommits: "kgo autocommits every second and, polling with BlockRebalanceOnPoll, commits what it polled (CommitUncommittedOffsets) in OnPartitionsRevoked, which leaving the group calls.",
		notes: map[string]string{
			"consume-by-timestamp": "kadm's ListOffsetsAfterMilli gives the end offset, not -1, for a time after every record.",
			"configs/alter":        "franz-go: kadm's AlterTopicConfigs sends IncrementalAlterConfigs.",
			"idempotent/none":      "kgo's default producer (idempotent, acks=all); produce/* turn it off (DisableIdempotentWrite).",
			"txn/commit-abort":     "kgo.TransactionalID, BeginTransaction and EndTransaction, with transactions version 2 (KIP-890 part 2: no AddPartitionsToTxn, an epoch per transaction); its read_committed consumer is FetchIsolationLevel(ReadCommitted).",
			"txn/offsets":          "GroupTransactSession, a member of the group (RequireStableFetchOffsets) whose End commits the offsets it polled with TxnOffsetCommit v5 (no AddOffsetsToTxn), with its member id and generation (KIP-447).",
			"txn/fencing":          "ProducerID(ctx) initialises the second producer; the first one's produce fails with INVALID_PRODUCER_EPOCH, the partition's answer to a fenced producer, as Kafka's.",
		},
	}, func(addr string) driver { return &franzDriver{addr: addr} })
}

// franzDriver drives franz-go.
type franzDriver struct{ addr string }

func (d *franzDriver) version(context.Context) (string, error) {
	return "franz-go " + moduleVersion("github.com/twmb/franz-go") + ", kadm " + moduleVersion("github.com/twmb/franz-go/pkg/kadm"), nil
}

// admin returns a kadm client and the function that closes it.
func (d *franzDriver) admin() (*kadm.Client, func(), error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(d.addr))
	if err != nil {
		return nil, nil, err
	}
	return kadm.NewClient(cl), cl.Close, nil
}

func (d *franzDriver) createTopic(ctx context.Context, topic string, partitions int32, replicas int16, configs map[string]string) error {
	adm, done, err := d.admin()
	if err != nil {
		return err
	}
	defer done()
	ptrs := make(map[string]*string, len(configs))
	for k, v := range configs {
		ptrs[k] = &v
	}
	resp, err := adm.CreateTopic(ctx, partitions, replicas, ptrs, topic)
	if err != nil {
		return err
	}
	return resp.Err
}

func (d *franzDriver) produce(ctx context.Context, topic, codec string, records []record) ([]position, error) {
	return franzProduce(ctx, d.addr, topic, codec, records)
}

func (d *franzDriver) produceIdempotent(ctx context.Context, topic, codec string, records []record) ([]position, error) {
	return franzProduceIdempotent(ctx, d.addr, topic, codec, records)
}

// franzProduce produces records with franz-go's plain producer (no
// producer id). The suite sets features up with it, so that they do not
// depend on idempotence, which idempotent/* checks.
func franzProduce(ctx context.Context, addr, topic, codec string, records []record, opts ...kgo.Opt) ([]position, error) {
	return franzProduceIdempotent(ctx, addr, topic, codec, records, append([]kgo.Opt{kgo.DisableIdempotentWrite()}, opts...)...)
}

// franzProduceIdempotent produces records with franz-go's idempotent
// producer (franzProducer), unless opts turn idempotence off.
func franzProduceIdempotent(ctx context.Context, addr, topic, codec string, records []record, opts ...kgo.Opt) ([]position, error) {
	cl, err := franzProducer(addr, topic, codec, opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return produceSync(ctx, cl, records)
}

// franzProducer returns a franz-go client that produces to topic, each
// record to the partition it names, compressed with codec, with acks all
// and franz-go's defaults but for opts: its idempotent producer, unless
// opts turn it off.
func franzProducer(addr, topic, codec string, opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgoCodecs[codec]),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.AllowAutoTopicCreation(),
	}, opts...)...)
}

// produceSync produces records with a franzProducer and returns where
// they landed.
func produceSync(ctx context.Context, cl *kgo.Client, records []record) ([]position, error) {
	rs := make([]*kgo.Record, len(records))
	for i, r := range records {
		rs[i] = &kgo.Record{Partition: r.Partition, Key: r.Key, Value: r.Value, Timestamp: millis(r.Timestamp)}
		for _, h := range r.Headers {
			rs[i].Headers = append(rs[i].Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		return nil, err
	}
	// The results come in the order the partitions answered; the records
	// themselves now carry their offsets.
	positions := make([]position, len(rs))
	for i, r := range rs {
		positions[i] = position{r.Partition, r.Offset}
	}
	return positions, nil
}

// consumer returns a franz-go client reading the given partitions from the
// given offsets, without a group, never resetting an offset out of range,
// with franz-go's defaults but for opts.
func (d *franzDriver) consumer(topic string, offsets map[int32]kgo.Offset, opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(d.addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
	}, opts...)...)
}

// poll reads n records.
func (d *franzDriver) poll(ctx context.Context, cl *kgo.Client, n int) ([]record, error) {
	var got []record
	for len(got) < n {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			return got, err
		}
		fetches.EachRecord(func(r *kgo.Record) { got = append(got, fromKgo(r)) })
	}
	return got, nil
}

func (d *franzDriver) consume(ctx context.Context, topic string, partitions int32, want []record) ([]record, error) {
	offsets := make(map[int32]kgo.Offset)
	for p := range partitions {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	cl, err := d.consumer(topic, offsets)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return d.poll(ctx, cl, len(want))
}

func (d *franzDriver) offsetsForTimes(ctx context.Context, topic string, partition int32, timestamps []int64) ([]int64, error) {
	adm, done, err := d.admin()
	if err != nil {
		return nil, err
	}
	defer done()
	var offsets []int64
	for _, ts := range timestamps {
		listed, err := adm.ListOffsetsAfterMilli(ctx, ts, topic)
		if err == nil {
			err = listed.Error()
		}
		if err != nil {
			return nil, err
		}
		o, ok := listed.Lookup(topic, partition)
		if !ok {
			return nil, fmt.Errorf("no offset for partition %d", partition)
		}
		offsets = append(offsets, o.Offset)
	}
	return offsets, nil
}

func (d *franzDriver) consumeFrom(ctx context.Context, topic string, partition int32, offset int64, want []record) ([]record, error) {
	cl, err := d.consumer(topic, map[int32]kgo.Offset{partition: kgo.NewOffset().At(offset)})
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return d.poll(ctx, cl, len(want))
}

func (d *franzDriver) metadata(ctx context.Context, topic string) (int32, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(d.addr))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = true
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return 0, err
	}
	if len(resp.Topics) != 1 {
		return 0, fmt.Errorf("metadata of %d topics", len(resp.Topics))
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		return 0, err
	}
	return int32(len(resp.Topics[0].Partitions)), nil
}

func (d *franzDriver) deleteTopic(ctx context.Context, topic string) error {
	adm, done, err := d.admin()
	if err != nil {
		return err
	}
	defer done()
	resp, err := adm.DeleteTopic(ctx, topic)
	if err != nil {
		return err
	}
	return resp.Err
}

func (d *franzDriver) describeConfigs(ctx context.Context, topic string, names []string) (map[string]string, error) {
	adm, done, err := d.admin()
	if err != nil {
		return nil, err
	}
	defer done()
	described, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return nil, err
	}
	rc, err := described.On(topic, nil)
	if err != nil {
		return nil, err
	}
	if rc.Err != nil {
		return nil, rc.Err
	}
	got := make(map[string]string)
	for _, c := range rc.Configs {
		got[c.Key] = c.MaybeValue()
	}
	return got, nil
}

func (d *franzDriver) alterConfigs(ctx context.Context, topic string, configs map[string]string) error {
	adm, done, err := d.admin()
	if err != nil {
		return err
	}
	defer done()
	var alter []kadm.AlterConfig
	for k, v := range configs {
		alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
	}
	resps, err := adm.AlterTopicConfigs(ctx, alter, topic)
	if err != nil {
		return err
	}
	for _, r := range resps {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// moduleVersion is the version of a module that go.mod requires (test
// binaries carry no module information).
func moduleVersion(path string) string {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		return "(unknown version)"
	}
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == path {
			return f[1]
		}
	}
	return "(unknown version)"
}
