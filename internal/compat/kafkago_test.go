package compat

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// TestKafkaGo runs the suite with segmentio/kafka-go: Client for
// administration and offsets, Writer to produce, Reader (a partition, no
// group) to consume from the start, and Conn to consume from an offset.
func TestKafkaGo(t *testing.T) {
	t.Parallel()
	runSuite(t, &client{
		name:         "kafka-go",
		emptyAsNull:  true,
		groups:       map[string]groupClient{"eager": kafkaGoGroup{}},
		groupCommits: "ConsumerGroup generations, each partition read by a Reader of its own; every message committed with Generation.CommitOffsets; ConsumerGroup.Close leaves the group.",
		groupLacks: map[string]string{
			"cooperative": "kafka-go 0.4 rebalances eagerly only.",
			"kip848":      "kafka-go 0.4 has no KIP-848 consumer.",
		},
		lacks: map[string]string{
			"idempotent/none":  kafkaGoNoIdempotence,
			"idempotent/gzip":  kafkaGoNoIdempotence,
			"idempotent/retry": kafkaGoNoIdempotence,
			"txn/commit-abort": kafkaGoNoTxn,
			"txn/offsets":      kafkaGoNoTxn,
			"txn/fencing":      kafkaGoNoTxn,
		},
		notes: map[string]string{
			"consume/none":         kafkaGoEmptyNote,
			"consume/gzip":         kafkaGoEmptyNote,
			"consume/snappy":       kafkaGoEmptyNote,
			"consume/lz4":          kafkaGoEmptyNote,
			"consume/zstd":         kafkaGoEmptyNote,
			"consume-by-timestamp": kafkaGoEmptyNote,
			"auto-create/produce":  "kafka-go: Writer creates topics only with AllowAutoTopicCreation set (off by default).",
			"auto-create/metadata": "kafka-go: Conn.ReadPartitions (Client.Metadata never allows auto-creation).",
			"configs/alter":        "kafka-go: Client.IncrementalAlterConfigs.",
		},
	}, func(addr string) driver { return &kafkaGoDriver{addr: addr} })
}

const kafkaGoNoIdempotence = "kafka-go 0.4 has no idempotent producer: Writer's batches carry no producer id (Client.InitProducerID exists, but nothing produces with the id)."

const kafkaGoNoTxn = "kafka-go 0.4 has no transactional producer: Client has the bare requests (InitProducerID, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn) and ProduceRequest a TransactionalID, but no batch it writes carries a producer id or the transactional attribute."

const kafkaGoEmptyNote = "kafka-go reads an empty key, value or header value as nil: it cannot tell empty from null when consuming (it produces both correctly)."

// kafkaGoDriver drives segmentio/kafka-go.
type kafkaGoDriver struct{ addr string }

var kafkaGoCodecs = map[string]kafka.Compression{
	"none": 0, "gzip": kafka.Gzip, "snappy": kafka.Snappy, "lz4": kafka.Lz4, "zstd": kafka.Zstd,
}

func (d *kafkaGoDriver) version(context.Context) (string, error) {
	return "kafka-go " + moduleVersion("github.com/segmentio/kafka-go"), nil
}

func (d *kafkaGoDriver) client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(d.addr), Timeout: 30 * time.Second}
}

func (d *kafkaGoDriver) createTopic(ctx context.Context, topic string, partitions int32, replicas int16, configs map[string]string) error {
	tc := kafka.TopicConfig{Topic: topic, NumPartitions: int(partitions), ReplicationFactor: int(replicas)}
	for k, v := range configs {
		tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
	}
	resp, err := d.client().CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{tc}})
	if err != nil {
		return err
	}
	return resp.Errors[topic]
}

func (d *kafkaGoDriver) produce(ctx context.Context, topic, codec string, records []record) ([]position, error) {
	var (
		mu        sync.Mutex
		landed    = make(map[int32][]int64)
		completed error
	)
	w := &kafka.Writer{
		Addr:                   kafka.TCP(d.addr),
		Topic:                  topic,
		Balancer:               kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition }),
		Compression:            kafkaGoCodecs[codec],
		RequiredAcks:           kafka.RequireAll,
		BatchSize:              len(records),
		BatchTimeout:           10 * time.Millisecond,
		AllowAutoTopicCreation: true,
		Completion: func(msgs []kafka.Message, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				completed = err
				return
			}
			for _, m := range msgs {
				landed[int32(m.Partition)] = append(landed[int32(m.Partition)], m.Offset)
			}
		},
	}
	msgs := make([]kafka.Message, len(records))
	for i, r := range records {
		msgs[i] = kafka.Message{Partition: int(r.Partition), Key: r.Key, Value: r.Value, Time: millis(r.Timestamp)}
		for _, h := range r.Headers {
			msgs[i].Headers = append(msgs[i].Headers, kafka.Header{Key: h.Key, Value: h.Value})
		}
	}
	err := w.WriteMessages(ctx, msgs...)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) {
		for _, e := range werrs {
			if e != nil {
				return nil, e
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if completed != nil {
		return nil, completed
	}
	// Completion hands batches over; within a partition, records take
	// offsets in the order they were written.
	positions := make([]position, len(records))
	for p := range landed {
		sort.Slice(landed[p], func(i, j int) bool { return landed[p][i] < landed[p][j] })
	}
	next := make(map[int32]int)
	for i, r := range records {
		offsets := landed[r.Partition]
		if next[r.Partition] >= len(offsets) {
			return nil, fmt.Errorf("no offset reported for record %d", i)
		}
		positions[i] = position{r.Partition, offsets[next[r.Partition]]}
		next[r.Partition]++
	}
	return positions, nil
}

func (d *kafkaGoDriver) produceIdempotent(context.Context, string, string, []record) ([]position, error) {
	return nil, errNotSupported
}

func (d *kafkaGoDriver) produceTransactions(context.Context, string, string, []transaction) error {
	return errNotSupported
}

func (d *kafkaGoDriver) consumeCommitted(context.Context, string, int32, []record) ([]record, error) {
	return nil, errNotSupported
}

func (d *kafkaGoDriver) transact(context.Context, txnRound) ([]record, error) {
	return nil, errNotSupported
}

func (d *kafkaGoDriver) fence(context.Context, string, string, fencing) (fenced, err error) {
	return nil, errNotSupported
}

// fromKafkaGo converts a kafka-go message.
func fromKafkaGo(m kafka.Message) record {
	r := record{Partition: int32(m.Partition), Offset: m.Offset, Key: m.Key, Value: m.Value, Timestamp: m.Time.UnixMilli(), Headers: []header{}}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, header{Key: h.Key, Value: h.Value})
	}
	return r
}

func (d *kafkaGoDriver) consume(ctx context.Context, topic string, partitions int32, want []record) ([]record, error) {
	perPartition := make(map[int32]int)
	for _, r := range want {
		perPartition[r.Partition]++
	}
	var got []record
	for p := range partitions {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: []string{d.addr}, Topic: topic, Partition: int(p),
			MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 100 * time.Millisecond,
		})
		if err := r.SetOffset(kafka.FirstOffset); err != nil {
			r.Close()
			return nil, err
		}
		for range perPartition[p] {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				return got, err
			}
			got = append(got, fromKafkaGo(m))
		}
		if err := r.Close(); err != nil {
			return got, err
		}
	}
	return got, nil
}

func (d *kafkaGoDriver) offsetsForTimes(ctx context.Context, topic string, partition int32, timestamps []int64) ([]int64, error) {
	var offsets []int64
	for _, ts := range timestamps {
		resp, err := d.client().ListOffsets(ctx, &kafka.ListOffsetsRequest{
			Topics: map[string][]kafka.OffsetRequest{topic: {kafka.TimeOffsetOf(int(partition), millis(ts))}},
		})
		if err != nil {
			return nil, err
		}
		ps := resp.Topics[topic]
		if len(ps) != 1 {
			return nil, fmt.Errorf("offsets of %d partitions", len(ps))
		}
		if ps[0].Error != nil {
			return nil, ps[0].Error
		}
		if len(ps[0].Offsets) != 1 {
			return nil, fmt.Errorf("%d offsets for one timestamp: %v", len(ps[0].Offsets), ps[0].Offsets)
		}
		for o := range ps[0].Offsets {
			offsets = append(offsets, o)
		}
	}
	return offsets, nil
}

func (d *kafkaGoDriver) consumeFrom(ctx context.Context, topic string, partition int32, offset int64, want []record) ([]record, error) {
	conn, err := kafka.DialLeader(ctx, "tcp", d.addr, topic, int(partition))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	if _, err := conn.Seek(offset, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
		return nil, err
	}
	var got []record
	for len(got) < len(want) {
		batch := conn.ReadBatch(1, 10<<20)
		for len(got) < len(want) {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			got = append(got, fromKafkaGo(m))
		}
		if err := batch.Close(); err != nil {
			return got, err
		}
	}
	return got, nil
}

func (d *kafkaGoDriver) metadata(ctx context.Context, topic string) (int32, error) {
	conn, err := kafka.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	ps, err := conn.ReadPartitions(topic)
	return int32(len(ps)), err
}

func (d *kafkaGoDriver) deleteTopic(ctx context.Context, topic string) error {
	resp, err := d.client().DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	if err != nil {
		return err
	}
	return resp.Errors[topic]
}

func (d *kafkaGoDriver) describeConfigs(ctx context.Context, topic string, names []string) (map[string]string, error) {
	resp, err := d.client().DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{
		Resources: []kafka.DescribeConfigRequestResource{{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: names}},
	})
	if err != nil {
		return nil, err
	}
	if len(resp.Resources) != 1 {
		return nil, fmt.Errorf("configs of %d resources", len(resp.Resources))
	}
	if err := resp.Resources[0].Error; err != nil {
		return nil, err
	}
	got := make(map[string]string)
	for _, e := range resp.Resources[0].ConfigEntries {
		got[e.ConfigName] = e.ConfigValue
	}
	return got, nil
}

func (d *kafkaGoDriver) alterConfigs(ctx context.Context, topic string, configs map[string]string) error {
	res := kafka.IncrementalAlterConfigsRequestResource{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic}
	for k, v := range configs {
		res.Configs = append(res.Configs, kafka.IncrementalAlterConfigsRequestConfig{Name: k, Value: v, ConfigOperation: kafka.ConfigOperationSet})
	}
	resp, err := d.client().IncrementalAlterConfigs(ctx, &kafka.IncrementalAlterConfigsRequest{Resources: []kafka.IncrementalAlterConfigsRequestResource{res}})
	if err != nil {
		return err
	}
	for _, r := range resp.Resources {
		if r.Error != nil {
			return r.Error
		}
	}
	return nil
}
