package broker

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
)

// TestIdempotentProduce: producer ids from InitProducerId, a retried
// batch answered with its original offset and stored once, a sequence gap
// and an old epoch refused with Kafka's codes, and franz-go's idempotent
// producer (its default) end to end.
func TestIdempotentProduce(t *testing.T) {
	b := startBroker(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := client(t, b)
	if _, err := adminClient(t, b).CreateTopic(ctx, 1, 1, nil, "idem"); err != nil {
		t.Fatal(err)
	}
	initReq := kmsg.NewPtrInitProducerIDRequest()
	initReq.TransactionTimeoutMillis, initReq.ProducerID, initReq.ProducerEpoch = 60000, -1, -1
	first, err := initReq.RequestWith(ctx, cl)
	if err != nil || first.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %+v %v", first, err)
	}
	second, err := initReq.RequestWith(ctx, cl)
	if err != nil || second.ErrorCode != 0 || second.ProducerID == first.ProducerID {
		t.Fatalf("a second InitProducerId: %+v (first %d) %v", second, first.ProducerID, err)
	}
	pid, epoch := first.ProducerID, first.ProducerEpoch

	produce := func(epoch int16, seq int32, n int) kmsg.ProduceResponseTopicPartition {
		t.Helper()
		var rs []kmsg.Record
		for i := range n {
			r := kmsg.NewRecord()
			r.OffsetDelta, r.Value = int32(i), []byte("v")
			rs = append(rs, r)
		}
		batch, err := recordbatch.Build(recordbatch.Header{PartitionLeaderEpoch: -1, LastOffsetDelta: int32(n - 1),
			BaseTimestamp: 1, MaxTimestamp: 1, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq}, rs)
		if err != nil {
			t.Fatal(err)
		}
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = -1, 5000
		req.Topics = []kmsg.ProduceRequestTopic{{Topic: "idem", Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 0, Records: batch}}}}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0]
	}
	tests := []struct {
		name     string
		epoch    int16
		seq      int32
		n        int
		wantCode int16
		wantBase int64
	}{
		{"first batch", epoch, 0, 3, 0, 0},
		{"second batch", epoch, 3, 2, 0, 3},
		{"the first again (a retry)", epoch, 0, 3, 0, 0},
		{"a gap", epoch, 9, 1, kerr.OutOfOrderSequenceNumber.Code, -1},
		{"next epoch from 0", epoch + 1, 0, 1, 0, 5},
		{"the old epoch", epoch, 5, 1, kerr.InvalidProducerEpoch.Code, -1},
	}
	for _, tt := range tests {
		got := produce(tt.epoch, tt.seq, tt.n)
		if got.ErrorCode != tt.wantCode || tt.wantCode == 0 && got.BaseOffset != tt.wantBase {
			t.Errorf("%s: %v at %d, want %v at %d", tt.name, kerr.ErrorForCode(got.ErrorCode), got.BaseOffset, kerr.ErrorForCode(tt.wantCode), tt.wantBase)
		}
	}
	p, _ := b.engine.Partition("idem", 0)
	if end := p.Offsets().LogEnd; end != 6 {
		t.Errorf("log end %d, want 6: a retry was stored twice", end)
	}

	// KIP-360 from an idempotent producer (no transactional id): as Kafka,
	// a new producer id, whatever id and epoch it names.
	bump := kmsg.NewPtrInitProducerIDRequest()
	bump.TransactionTimeoutMillis, bump.ProducerID, bump.ProducerEpoch = 60000, second.ProducerID, second.ProducerEpoch
	if resp, err := bump.RequestWith(ctx, cl); err != nil || resp.ErrorCode != 0 || resp.ProducerID == second.ProducerID || resp.ProducerID == first.ProducerID {
		t.Errorf("KIP-360 from an idempotent producer: %+v %v", resp, err)
	}
	// franz-go's producer is idempotent by default: it gets an id and its
	// records land once each.
	producer := client(t, b)
	for i := range 100 {
		producer.Produce(ctx, &kgo.Record{Topic: "idem", Value: []byte{byte(i)}}, nil)
	}
	if err := producer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if end := p.Offsets().LogEnd; end != 106 {
		t.Errorf("log end %d after 100 idempotent records, want 106", end)
	}
}
