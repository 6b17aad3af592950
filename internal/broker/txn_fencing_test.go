package broker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/weir-io/weir/internal/recordbatch"
)

// TestTxnFencedProduce: a transactional producer whose transactional id
// was initialised again (which fences it) sends a Produce v7, as kafkajs
// does, with its old epoch, to a partition already in its transaction.
// The partition answers INVALID_PRODUCER_EPOCH, as Kafka's leaders do:
// the coordinator's PRODUCER_FENCED is unknown to kafkajs 2.2 ("Unknown
// error code 90"), which the compatibility suite's txn/fencing row found.
// Nothing of the fenced producer is stored.
func TestTxnFencedProduce(t *testing.T) {
	b := startBroker(t, Config{Groups: testGroups()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const topic, id = "fenced-produce", "fenced-produce"
	if _, err := adminClient(t, b).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(kmsg.Produce.Int16(), 7)
	cl := client(t, b, kgo.MaxVersions(versions))
	pid, epoch := rawInitProducerID(ctx, t, cl, id)
	add := kmsg.NewPtrAddPartitionsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch = id, pid, epoch
	add.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: topic, Partitions: []int32{0}}}
	added, err := add.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if code := added.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("AddPartitionsToTxn: %v", kerr.ErrorForCode(code))
	}
	if code := rawTxnProduce(ctx, t, cl, 7, id, topic, pid, epoch, 0); code != 0 {
		t.Fatalf("Produce v7 in the transaction: %v", kerr.ErrorForCode(code))
	}
	if _, newer := rawInitProducerID(ctx, t, cl, id); newer <= epoch {
		t.Fatalf("InitProducerId again gave epoch %d after %d", newer, epoch)
	}
	if code := rawTxnProduce(ctx, t, cl, 7, id, topic, pid, epoch, 1); code != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("Produce v7 of the fenced producer (epoch %d): %v, want INVALID_PRODUCER_EPOCH", epoch, kerr.ErrorForCode(code))
	}
	// The first record, and the marker aborting its transaction.
	part, err := b.engine.Partition(topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	if hw := part.Offsets().HighWatermark; hw != 2 {
		t.Fatalf("the partition ends at %d, want 2 (a record and an abort marker)", hw)
	}
}

// rawInitProducerID initialises a transactional id, retrying while the
// coordinator aborts a transaction of the id (CONCURRENT_TRANSACTIONS).
func rawInitProducerID(ctx context.Context, t *testing.T, cl *kgo.Client, id string) (int64, int16) {
	t.Helper()
	for {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionalID, req.TransactionTimeoutMillis = &id, 60000
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		err = kerr.ErrorForCode(resp.ErrorCode)
		switch {
		case err == nil:
			return resp.ProducerID, resp.ProducerEpoch
		case !errors.Is(err, kerr.ConcurrentTransactions):
			t.Fatalf("InitProducerId: %v", err)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// rawTxnProduce sends one transactional record to partition 0 of topic
// in a Produce of the given version (the highest the client and the
// broker share: the test checks) and returns the partition's error code.
func rawTxnProduce(ctx context.Context, t *testing.T, cl *kgo.Client, version int16, id, topic string, pid int64, epoch int16, seq int32) int16 {
	t.Helper()
	now := time.Now().UnixMilli()
	batch, err := recordbatch.Build(recordbatch.Header{
		Attributes:    0x10, // transactional
		BaseTimestamp: now, MaxTimestamp: now,
		ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq,
	}, []kmsg.Record{{Value: fmt.Appendf(nil, "record %d", seq)}})
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.TransactionID, req.Acks, req.TimeoutMillis = &id, -1, 10000
	req.Topics = []kmsg.ProduceRequestTopic{{Topic: topic, Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 0, Records: batch}}}}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if req.Version != version {
		t.Fatalf("sent Produce v%d, want v%d", req.Version, version)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

// TestTxnMarkersOnce: each transaction leaves exactly one marker in each
// of its partitions. The broker's timer hands out again, about 100 ms
// after the start and every 5 s, the markers a failed write left owed;
// it must not hand out those that EndTxn is writing at that moment, or a
// partition gets two, and the second, landing after the producer's next
// transaction began there, ends that one (transactions version 1 keeps
// the producer id and epoch). The compatibility suite's txn rows found
// it. A producer aborts and commits, by turns, transactions of a record
// in each of 16 partitions for the first 600 ms of a broker's life, past
// the timer's first run; each partition must end at twice the number of
// transactions. The first run falls while markers are written for one
// broker in two to one in six, so three brokers are tried; package txn
// pins the rule itself (TestMarkersHeldOnce).
func TestTxnMarkersOnce(t *testing.T) {
	for i := range 3 {
		t.Run(fmt.Sprintf("broker-%d", i+1), func(t *testing.T) {
			started := time.Now()
			b := startBroker(t, Config{Groups: testGroups()})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			const topic, partitions = "markers-once", 16
			admin := adminClient(t, b)
			if _, err := admin.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
				t.Fatal(err)
			}
			producer := client(t, b, kgo.TransactionalID("markers-once"))
			transactions := 0
			for time.Since(started) < 600*time.Millisecond {
				if err := producer.BeginTransaction(); err != nil {
					t.Fatal(err)
				}
				for p := range int32(partitions) {
					producer.Produce(ctx, &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "transaction %d", transactions)}, nil)
				}
				if err := producer.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				if err := producer.EndTransaction(ctx, kgo.TransactionEndTry(transactions%2 == 1)); err != nil {
					t.Fatalf("transaction %d: %v", transactions, err)
				}
				transactions++
			}
			for p := range int32(partitions) {
				part, err := b.engine.Partition(topic, p)
				if err != nil {
					t.Fatal(err)
				}
				if hw := part.Offsets().HighWatermark; hw != int64(2*transactions) {
					t.Errorf("partition %d ends at %d after %d transactions, want %d: a record and a marker each", p, hw, transactions, 2*transactions)
				}
			}
		})
	}
}
