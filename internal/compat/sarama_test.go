package compat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// saramaVersion is the Kafka version sarama is configured for: sarama
// picks its request versions from it rather than from ApiVersions.
var saramaVersion = sarama.V4_0_0_0

// TestSarama runs the suite with IBM/sarama: ClusterAdmin, SyncProducer
// with the manual partitioner, and partition consumers (no group).
func TestSarama(t *testing.T) {
	t.Parallel()
	runSuite(t, &client{
		name:         "sarama",
		groups:       saramaGroups,
		groupCommits: "ConsumerGroup with MarkMessage for every message: sarama commits the marks every second, when a session ends and when it closes (which leaves the group).",
		groupLacks: map[string]string{
			"kip848": "sarama 1.61 has no KIP-848 consumer (ConsumerGroupHeartbeat).",
		},
		notes: map[string]string{
			"configs/alter":             "sarama: ClusterAdmin.IncrementalAlterConfig.",
			"idempotent/none":           "Producer.Idempotent, with what sarama requires of it: Net.MaxOpenRequests 1, RequiredAcks WaitForAll, Producer.Retry.Max at least 1.",
			"txn/commit-abort":          "Producer.Transaction.ID with what the idempotent producer requires; BeginTxn, CommitTxn, AbortTxn. Its read_committed consumer: partition consumers with Consumer.IsolationLevel ReadCommitted.",
			"txn/offsets":               "A ConsumerGroup session reads the input; AddOffsetsToTxnWithGroupMetadata with the session's member id and generation (KIP-447; AddOffsetsToTxn names the group only).",
			"txn/fencing":               "The first producer's SendMessage fails with the partition's INVALID_PRODUCER_EPOCH.",
			"errors/fetch-out-of-range": "sarama checks the offset with ListOffsets when a partition consumer starts and returns OFFSET_OUT_OF_RANGE itself, before any fetch.",
		},
	}, func(addr string) driver { return &saramaDriver{addrs: []string{addr}} })
}

// saramaDriver drives sarama.
type saramaDriver struct{ addrs []string }

var saramaCodecs = map[string]sarama.CompressionCodec{
	"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy,
	"lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD,
}

func init() {
	sarama.Logger = log.New(io.Discard, "", 0)
}

func (d *saramaDriver) config() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = saramaVersion
	cfg.ClientID = "weir-compat"
	cfg.Metadata.Retry.Backoff = 50 * time.Millisecond
	return cfg
}

func (d *saramaDriver) version(context.Context) (string, error) {
	return fmt.Sprintf("sarama %s (Config.Version %s)", moduleVersion("github.com/IBM/sarama"), saramaVersion), nil
}

func (d *saramaDriver) admin() (sarama.ClusterAdmin, error) {
	return sarama.NewClusterAdmin(d.addrs, d.config())
}

func (d *saramaDriver) createTopic(_ context.Context, topic string, partitions int32, replicas int16, configs map[string]string) error {
	adm, err := d.admin()
	if err != nil {
		return err
	}
	defer adm.Close()
	entries := make(map[string]*string, len(configs))
	for k, v := range configs {
		entries[k] = &v
	}
	return adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: replicas, ConfigEntries: entries}, false)
}

func (d *saramaDriver) produce(_ context.Context, topic, codec string, records []record) ([]position, error) {
	return d.produceWith(d.producerConfig(codec), topic, records)
}

// produceIdempotent sets what sarama's idempotent producer requires:
// acks all, one request in flight per connection, retries.
func (d *saramaDriver) produceIdempotent(_ context.Context, topic, codec string, records []record) ([]position, error) {
	cfg := d.producerConfig(codec)
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Retry.Max = 3
	return d.produceWith(cfg, topic, records)
}

// producerConfig is the configuration of a SyncProducer that sends each
// record to the partition it names, compressed with codec.
func (d *saramaDriver) producerConfig(codec string) *sarama.Config {
	cfg := d.config()
	cfg.Producer.Compression = saramaCodecs[codec]
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	return cfg
}

// produceWith produces records with a SyncProducer configured by cfg.
func (d *saramaDriver) produceWith(cfg *sarama.Config, topic string, records []record) ([]position, error) {
	producer, err := sarama.NewSyncProducer(d.addrs, cfg)
	if err != nil {
		return nil, err
	}
	defer producer.Close()
	msgs := make([]*sarama.ProducerMessage, len(records))
	for i, r := range records {
		msgs[i] = saramaMessage(topic, r)
	}
	if err := producer.SendMessages(msgs); err != nil {
		var perrs sarama.ProducerErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			return nil, perrs[0].Err
		}
		return nil, err
	}
	positions := make([]position, len(msgs))
	for i, m := range msgs {
		positions[i] = position{m.Partition, m.Offset}
	}
	return positions, nil
}

// saramaMessage is a record as a message to produce.
func saramaMessage(topic string, r record) *sarama.ProducerMessage {
	m := &sarama.ProducerMessage{Topic: topic, Partition: r.Partition, Timestamp: millis(r.Timestamp)}
	if r.Key != nil {
		m.Key = sarama.ByteEncoder(r.Key)
	}
	if r.Value != nil {
		m.Value = sarama.ByteEncoder(r.Value)
	}
	for _, h := range r.Headers {
		m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
	}
	return m
}

// saramaRecord is a consumed message as a record.
func saramaRecord(m *sarama.ConsumerMessage) record {
	r := record{Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value, Timestamp: m.Timestamp.UnixMilli(), Headers: []header{}}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, header{Key: string(h.Key), Value: h.Value})
	}
	return r
}

// read reads n messages from a partition consumer.
func (d *saramaDriver) read(ctx context.Context, pc sarama.PartitionConsumer, n int) ([]record, error) {
	var got []record
	for len(got) < n {
		select {
		case m := <-pc.Messages():
			got = append(got, saramaRecord(m))
		case err := <-pc.Errors():
			return got, err
		case <-ctx.Done():
			return got, fmt.Errorf("after %d of %d records: %w", len(got), n, ctx.Err())
		}
	}
	return got, nil
}

func (d *saramaDriver) consume(ctx context.Context, topic string, partitions int32, want []record) ([]record, error) {
	return d.consumeWith(ctx, d.config(), topic, partitions, want)
}

// consumeWith is consume with a consumer configured by cfg.
func (d *saramaDriver) consumeWith(ctx context.Context, cfg *sarama.Config, topic string, partitions int32, want []record) ([]record, error) {
	cfg.Consumer.Return.Errors = true
	consumer, err := sarama.NewConsumer(d.addrs, cfg)
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	perPartition := make(map[int32]int)
	for _, r := range want {
		perPartition[r.Partition]++
	}
	// Start every partition consumer before reading, so that they fetch
	// at the same time.
	pcs := make([]sarama.PartitionConsumer, partitions)
	for p := range partitions {
		if pcs[p], err = consumer.ConsumePartition(topic, p, sarama.OffsetOldest); err != nil {
			return nil, err
		}
		defer pcs[p].Close()
	}
	var got []record
	for p, pc := range pcs {
		rs, err := d.read(ctx, pc, perPartition[int32(p)])
		got = append(got, rs...)
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

func (d *saramaDriver) offsetsForTimes(_ context.Context, topic string, partition int32, timestamps []int64) ([]int64, error) {
	cl, err := sarama.NewClient(d.addrs, d.config())
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var offsets []int64
	for _, ts := range timestamps {
		o, err := cl.GetOffset(topic, partition, ts)
		if err != nil {
			return nil, err
		}
		offsets = append(offsets, o)
	}
	return offsets, nil
}

func (d *saramaDriver) consumeFrom(ctx context.Context, topic string, partition int32, offset int64, want []record) ([]record, error) {
	cfg := d.config()
	cfg.Consumer.Return.Errors = true
	consumer, err := sarama.NewConsumer(d.addrs, cfg)
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, partition, offset)
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	return d.read(ctx, pc, len(want))
}

func (d *saramaDriver) metadata(_ context.Context, topic string) (int32, error) {
	cl, err := sarama.NewClient(d.addrs, d.config())
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	if err := cl.RefreshMetadata(topic); err != nil {
		return 0, err
	}
	ps, err := cl.Partitions(topic)
	return int32(len(ps)), err
}

func (d *saramaDriver) deleteTopic(_ context.Context, topic string) error {
	adm, err := d.admin()
	if err != nil {
		return err
	}
	defer adm.Close()
	return adm.DeleteTopic(topic)
}

func (d *saramaDriver) describeConfigs(_ context.Context, topic string, names []string) (map[string]string, error) {
	adm, err := d.admin()
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	entries, err := adm.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic, ConfigNames: names})
	if err != nil {
		return nil, err
	}
	got := make(map[string]string)
	for _, e := range entries {
		got[e.Name] = e.Value
	}
	return got, nil
}

func (d *saramaDriver) alterConfigs(_ context.Context, topic string, configs map[string]string) error {
	adm, err := d.admin()
	if err != nil {
		return err
	}
	defer adm.Close()
	entries := make(map[string]sarama.IncrementalAlterConfigsEntry, len(configs))
	for k, v := range configs {
		entries[k] = sarama.IncrementalAlterConfigsEntry{Operation: sarama.IncrementalAlterConfigsOperationSet, Value: &v}
	}
	return adm.IncrementalAlterConfig(sarama.TopicResource, topic, entries, false)
}
