package broker

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage"
)

// TestReadCommitted: transactional batches and markers written into a
// partition (as the transaction coordinator will) are served to a
// read_committed franz-go consumer up to the last stable offset, without
// the aborted records, and to a read_uncommitted one whole. A client may
// not write a marker itself.
func TestReadCommitted(t *testing.T) {
	b := startBroker(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adminClient(t, b).CreateTopic(ctx, 1, 1, nil, "tx"); err != nil {
		t.Fatal(err)
	}
	p, err := b.engine.Partition("tx", 0)
	if err != nil {
		t.Fatal(err)
	}
	seqs := map[int64]int32{}
	write := func(producer int64, values ...string) {
		t.Helper()
		var rs []kmsg.Record
		for i, v := range values {
			r := kmsg.NewRecord()
			r.OffsetDelta, r.Value = int32(i), []byte(v)
			rs = append(rs, r)
		}
		batch, err := recordbatch.Build(recordbatch.Header{PartitionLeaderEpoch: -1, Attributes: 0x10, // transactional
			LastOffsetDelta: int32(len(rs) - 1), BaseTimestamp: 1, MaxTimestamp: 1,
			ProducerID: producer, ProducerEpoch: 0, BaseSequence: seqs[producer]}, rs)
		if err != nil {
			t.Fatal(err)
		}
		seqs[producer] += int32(len(rs))
		if _, err := p.AppendDurable(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	mark := func(producer int64, commit bool) {
		t.Helper()
		batch, err := storage.NewMarkerBatch(producer, 0, commit, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.AppendDurable(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	write(1, "a1", "a2")
	write(2, "b1")
	mark(1, true)
	write(2, "b2")
	mark(2, false)
	write(3, "c1") // left open: the last stable offset stops before it
	if off := p.Offsets(); off.LastStable != 6 || off.HighWatermark != 7 {
		t.Fatalf("offsets %+v, want last stable 6, high watermark 7", off)
	}
	read := func(level kgo.IsolationLevel) []string {
		t.Helper()
		cl := client(t, b, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"tx": {0: kgo.NewOffset().AtStart()}}),
			kgo.FetchIsolationLevel(level), kgo.FetchMaxWait(200*time.Millisecond))
		var got []string
		deadline := time.Now().Add(1500 * time.Millisecond)
		for time.Now().Before(deadline) {
			pollCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			fs := cl.PollFetches(pollCtx)
			cancel()
			fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		}
		return got
	}
	if got := read(kgo.ReadCommitted()); !slices.Equal(got, []string{"a1", "a2"}) {
		t.Errorf("read_committed: %v, want a1 a2 (b aborted, c open)", got)
	}
	if got := read(kgo.ReadUncommitted()); !slices.Equal(got, []string{"a1", "a2", "b1", "b2", "c1"}) {
		t.Errorf("read_uncommitted: %v", got)
	}
	mark(3, true)
	if got := read(kgo.ReadCommitted()); !slices.Equal(got, []string{"a1", "a2", "c1"}) {
		t.Errorf("read_committed once c committed: %v", got)
	}

	// A marker from a client is refused.
	marker, err := storage.NewMarkerBatch(9, 0, true, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	req.Topics = []kmsg.ProduceRequestTopic{{Topic: "tx", Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 0, Records: marker}}}}
	resp, err := req.RequestWith(ctx, client(t, b))
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.InvalidRecord.Code {
		t.Errorf("a client's marker: %v, want INVALID_RECORD", kerr.ErrorForCode(code))
	}
}
