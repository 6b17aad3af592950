package broker

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// TestTransactions: a franz-go transactional producer commits one
// transaction and aborts another; a read_committed consumer sees only the
// committed records, a read_uncommitted one all of them. Under both
// transactions versions: with version 2 franz-go adds no partitions
// itself and every EndTxn bumps its epoch; a client capped to the request
// versions of version 1 keeps to version 1 against a broker of version 2.
func TestTransactions(t *testing.T) {
	for _, tc := range []struct {
		name            string
		broker          int16
		capped, bumping bool
	}{
		{"version-1", 1, false, false},
		{"version-2", 2, false, true},
		{"version-2-capped-client", 2, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) { testTransactions(t, tc.broker, tc.capped, tc.bumping) })
	}
}

func testTransactions(t *testing.T, version int16, capped, bumping bool) {
	b := startBroker(t, Config{Groups: testGroups(), TransactionVersion: version})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := adminClient(t, b).CreateTopic(ctx, 2, 1, nil, "tx"); err != nil {
		t.Fatal(err)
	}
	opts := []kgo.Opt{kgo.TransactionalID("tx-1"), kgo.TransactionTimeout(30 * time.Second)}
	if capped {
		opts = append(opts, kgo.MaxVersions(transactionsVersion1()))
	}
	producer := client(t, b, opts...)
	txn := func(commit bool, values ...string) {
		t.Helper()
		if err := producer.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i, v := range values {
			if err := producer.ProduceSync(ctx, &kgo.Record{Topic: "tx", Partition: int32(i % 2), Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := producer.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatalf("end transaction (commit %v): %v", commit, err)
		}
	}
	txn(true, "c1", "c2", "c3")
	txn(false, "a1", "a2")
	txn(true, "c4")
	read := func(level kgo.IsolationLevel) []string {
		t.Helper()
		cl := client(t, b, kgo.ConsumeTopics("tx"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.FetchIsolationLevel(level), kgo.FetchMaxWait(200*time.Millisecond))
		var got []string
		deadline := time.Now().Add(1500 * time.Millisecond)
		for time.Now().Before(deadline) {
			pollCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			cl.PollFetches(pollCtx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
			cancel()
		}
		slices.Sort(got)
		return got
	}
	if got := read(kgo.ReadCommitted()); fmt.Sprint(got) != "[c1 c2 c3 c4]" {
		t.Errorf("read_committed: %v", got)
	}
	if got := read(kgo.ReadUncommitted()); fmt.Sprint(got) != "[a1 a2 c1 c2 c3 c4]" {
		t.Errorf("read_uncommitted: %v", got)
	}
	for p := int32(0); p < 2; p++ {
		part, _ := b.engine.Partition("tx", p)
		if off := part.Offsets(); off.LastStable != off.HighWatermark {
			t.Errorf("partition %d: last stable %d, high watermark %d: a transaction is left open", p, off.LastStable, off.HighWatermark)
		}
	}
	// DescribeProducers sees the transactional producer, no transaction
	// open; DescribeTransactions its id, complete.
	dp := kmsg.NewPtrDescribeProducersRequest()
	dp.Topics = []kmsg.DescribeProducersRequestTopic{{Topic: "tx", Partitions: []int32{0}}}
	dpResp, err := dp.RequestWith(ctx, producer)
	if err != nil {
		t.Fatal(err)
	}
	if ps := dpResp.Topics[0].Partitions[0].ActiveProducers; len(ps) != 1 || ps[0].CurrentTxnStartOffset != -1 || ps[0].LastSequence < 0 {
		t.Errorf("DescribeProducers: %+v", dpResp.Topics[0].Partitions[0])
	}
	dt := kmsg.NewPtrDescribeTransactionsRequest()
	dt.TransactionalIDs = []string{"tx-1"}
	dtResp, err := dt.RequestWith(ctx, producer)
	if err != nil {
		t.Fatal(err)
	}
	// Three transactions: version 2 bumped the epoch at each EndTxn.
	wantEpoch := int16(0)
	if bumping {
		wantEpoch = 3
	}
	if s := dtResp.TransactionStates[0]; s.ErrorCode != 0 || s.State != "CompleteCommit" || s.ProducerEpoch != wantEpoch {
		t.Errorf("DescribeTransactions: %+v, want CompleteCommit at epoch %d", s, wantEpoch)
	}
}

// TestGroupTransactSession: franz-go's consume-transform-produce session
// copies a topic into another, the consumed offsets committed in the same
// transactions (TxnOffsetCommit): the output holds every input record
// once, and the group's offsets are at the input's end.
func TestGroupTransactSession(t *testing.T) {
	b := startBroker(t, Config{Groups: testGroups()})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := adminClient(t, b)
	for _, topic := range []string{"in", "out"} {
		if _, err := admin.CreateTopic(ctx, 2, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	const n = 200
	var rs []*kgo.Record
	for i := range n {
		rs = append(rs, &kgo.Record{Topic: "in", Partition: int32(i % 2), Value: []byte(fmt.Sprint(i))})
	}
	if err := client(t, b).ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	sess, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(b.Addr().String()), kgo.TransactionalID("copier"),
		kgo.ConsumerGroup("copy"), kgo.ConsumeTopics("in"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	copied := 0
	for copied < n {
		fs := sess.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("after %d records: %v", copied, err)
		}
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Topic: "out", Partition: r.Partition, Value: r.Value}, nil)
			copied++
		})
		if committed, err := sess.End(ctx, kgo.TryCommit); err != nil || !committed {
			t.Fatalf("end: committed %v, %v", committed, err)
		}
	}
	offsets, err := admin.FetchOffsets(ctx, "copy")
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 2; p++ {
		if o, _ := offsets.Lookup("in", p); o.At != n/2 {
			t.Errorf("group offset of in/%d: %+v, want %d", p, o, n/2)
		}
	}
	cl := client(t, b, kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	seen := map[string]int{}
	for len(seen) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d distinct of %d: %v", len(seen), n, err)
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++ })
	}
	for v, c := range seen {
		if c != 1 {
			t.Errorf("record %s in the output %d times", v, c)
		}
	}
}

// transactionsVersion1 caps the request versions of transactions version
// 2 (Produce 12, EndTxn 5, TxnOffsetCommit 5): franz-go then uses version
// 1 against a broker that finalizes version 2.
func transactionsVersion1() *kversion.Versions {
	v := kversion.Stable()
	v.SetMaxKeyVersion(kmsg.Produce.Int16(), 11)
	v.SetMaxKeyVersion(kmsg.EndTxn.Int16(), 4)
	v.SetMaxKeyVersion(kmsg.TxnOffsetCommit.Int16(), 4)
	return v
}
