package broker

import (
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestProduceOrderPerConnection sends many small produce requests to one
// partition, five in flight on one connection, without idempotence: the
// records must be stored in the order sent, as Kafka stores them.
func TestProduceOrderPerConnection(t *testing.T) {
	b := startBroker(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if created, err := adminClient(t, b).CreateTopic(ctx, 1, 1, nil, "order"); err != nil || created.Err != nil {
		t.Fatalf("create: %v %v", err, created.Err)
	}
	producer := client(t, b, kgo.DisableIdempotentWrite(), kgo.ProducerBatchMaxBytes(1000),
		kgo.MaxProduceRequestsInflightPerBroker(5), kgo.ProducerLinger(0))
	const n = 3000
	for i := range n {
		value := binary.BigEndian.AppendUint32(make([]byte, 0, 400), uint32(i))
		producer.Produce(ctx, &kgo.Record{Topic: "order", Value: value[:400]}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := producer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	consumer := client(t, b, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"order": {0: kgo.NewOffset().AtStart()}}))
	for got := 0; got < n; {
		fetches := consumer.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			t.Fatalf("after %d records: %v", got, err)
		}
		for _, r := range fetches.Records() {
			if seq := binary.BigEndian.Uint32(r.Value); int64(seq) != r.Offset {
				t.Fatalf("record %d stored at offset %d", seq, r.Offset)
			}
			got++
		}
	}
}

// TestProduceOldVersions checks that Produce versions 0-2, advertised for
// librdkafka's sake, are answered with UNSUPPORTED_VERSION and store
// nothing.
func TestProduceOldVersions(t *testing.T) {
	b := startBroker(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if created, err := adminClient(t, b).CreateTopic(ctx, 1, 1, nil, "old"); err != nil || created.Err != nil {
		t.Fatalf("create: %v %v", err, created.Err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 2, 1, 1000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "old"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = make([]byte, 40) // a message set of magic 0, as v0-2 carry
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	nc, err := net.Dial("tcp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	raw, err := rawRequest(t, nc, frame(0, 2, 9, req.AppendTo(nil)))
	if err != nil {
		t.Fatal(err)
	}
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = 2
	if err := resp.ReadFrom(raw[4:]); err != nil { // after the correlation id
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.UnsupportedVersion.Code {
		t.Fatalf("produce v2: error %d, want UNSUPPORTED_VERSION", code)
	}
	if p, _ := b.engine.Partition("old", 0); p.Offsets().LogEnd != 0 {
		t.Fatal("produce v2 stored records")
	}
}
