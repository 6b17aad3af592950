package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestTxnVersionAdvertised: ApiVersions finalizes transaction.version at
// the configured level, and advertises the versions of KIP-890 part 2
// only at level 2.
func TestTxnVersionAdvertised(t *testing.T) {
	for _, tc := range []struct {
		version                       int16
		produce, endTxn, offsetCommit int16
	}{
		{2, 12, 5, 5},
		{1, 11, 4, 4},
	} {
		t.Run(fmt.Sprintf("version-%d", tc.version), func(t *testing.T) {
			b := startBroker(t, Config{TransactionVersion: tc.version})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, client(t, b))
			if err != nil {
				t.Fatal(err)
			}
			if resp.FinalizedFeaturesEpoch < 0 || len(resp.FinalizedFeatures) != 1 ||
				resp.FinalizedFeatures[0].Name != "transaction.version" || resp.FinalizedFeatures[0].MaxVersionLevel != tc.version {
				t.Errorf("finalized features (epoch %d): %+v, want transaction.version %d", resp.FinalizedFeaturesEpoch, resp.FinalizedFeatures, tc.version)
			}
			if len(resp.SupportedFeatures) != 1 || resp.SupportedFeatures[0].MaxVersion != 2 {
				t.Errorf("supported features: %+v", resp.SupportedFeatures)
			}
			want := map[int16]int16{kmsg.Produce.Int16(): tc.produce, kmsg.EndTxn.Int16(): tc.endTxn, kmsg.TxnOffsetCommit.Int16(): tc.offsetCommit}
			for _, k := range resp.ApiKeys {
				if w, ok := want[k.ApiKey]; ok && k.MaxVersion != w {
					t.Errorf("API %d: max version %d, want %d", k.ApiKey, k.MaxVersion, w)
				}
			}
		})
	}
	if _, err := Listen(Config{Listen: "127.0.0.1:0", TransactionVersion: 3}, nil); err == nil {
		t.Error("transaction version 3 accepted")
	}
}

// TestTxnVersion2Requests drives the requests of a transactions version 2
// client by hand: Produce 12 and TxnOffsetCommit 5 add their partitions
// to the transaction themselves; EndTxn 5 bumps the epoch and answers the
// new one; a retried EndTxn gets the same answer; a late produce or EndTxn
// of the finished transaction is refused, and writes nothing.
func TestTxnVersion2Requests(t *testing.T) {
	b := startBroker(t, Config{Groups: testGroups()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const topic, id, group = "v2", "v2-producer", "v2-group"
	admin := adminClient(t, b)
	if _, err := admin.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	cl := client(t, b)
	pid, e0 := rawInitProducerID(ctx, t, cl, id)

	// Transaction 1: a record and the group's offset, nothing added
	// beforehand; committed.
	if code := rawTxnProduce(ctx, t, cl, 12, id, topic, pid, e0, 0); code != 0 {
		t.Fatalf("Produce v12: %v", kerr.ErrorForCode(code))
	}
	commit := kmsg.NewPtrTxnOffsetCommitRequest()
	commit.TransactionalID, commit.Group, commit.ProducerID, commit.ProducerEpoch, commit.Generation = id, group, pid, e0, -1
	commit.Topics = []kmsg.TxnOffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Partition: 0, Offset: 42, LeaderEpoch: -1}}}}
	committed, err := commit.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if commit.Version != 5 {
		t.Fatalf("sent TxnOffsetCommit v%d, want v5", commit.Version)
	}
	if code := committed.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("TxnOffsetCommit v5: %v", kerr.ErrorForCode(code))
	}
	e1 := endTxnV5(ctx, t, cl, id, pid, e0, true, 0)
	if e1 != e0+1 {
		t.Fatalf("EndTxn v5 answered epoch %d after %d", e1, e0)
	}
	if again := endTxnV5(ctx, t, cl, id, pid, e0, true, 0); again != e1 {
		t.Fatalf("a retried EndTxn answered epoch %d, want %d", again, e1)
	}
	offsets, err := admin.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offsets.Lookup(topic, 0); !ok || o.At != 42 {
		t.Fatalf("the group's committed offset: %+v (found %v), want 42", o, ok)
	}

	// A late produce of transaction 1 is refused: its epoch is stale.
	if code := rawTxnProduce(ctx, t, cl, 12, id, topic, pid, e0, 1); code != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("late Produce v12 at epoch %d: %v, want INVALID_PRODUCER_EPOCH", e0, kerr.ErrorForCode(code))
	}

	// Transaction 2 at the new epoch, from sequence 0; aborted. A late
	// EndTxn of transaction 1 that arrives meanwhile cannot end it.
	if code := rawTxnProduce(ctx, t, cl, 12, id, topic, pid, e1, 0); code != 0 {
		t.Fatalf("Produce v12 at epoch %d: %v", e1, kerr.ErrorForCode(code))
	}
	late := kmsg.NewPtrEndTxnRequest()
	late.TransactionalID, late.ProducerID, late.ProducerEpoch, late.Commit = id, pid, e0, true
	lateResp, err := late.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if lateResp.ErrorCode == 0 {
		t.Fatalf("a late EndTxn at epoch %d during the transaction at epoch %d succeeded", e0, e1)
	}
	t.Logf("a late EndTxn: %v", kerr.ErrorForCode(lateResp.ErrorCode))
	described, err := admin.DescribeTransactions(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if s := described[id]; s.State != "Ongoing" || s.ProducerEpoch != e1 {
		t.Fatalf("after a late EndTxn: %s at epoch %d, want Ongoing at %d", s.State, s.ProducerEpoch, e1)
	}
	if e2 := endTxnV5(ctx, t, cl, id, pid, e1, false, 0); e2 != e1+1 {
		t.Fatalf("EndTxn v5 answered epoch %d after %d", e2, e1)
	}

	// The partition: a record, a commit marker, a record, an abort
	// marker; nothing open.
	part, err := b.engine.Partition(topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	if off := part.Offsets(); off.HighWatermark != 4 || off.LastStable != 4 {
		t.Fatalf("the partition: high watermark %d, last stable %d, want 4 and 4", off.HighWatermark, off.LastStable)
	}
	read := client(t, b, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	fetches := read.PollRecords(ctx, 10)
	if err := fetches.Err(); err != nil {
		t.Fatal(err)
	}
	if rs := fetches.Records(); len(rs) != 1 || rs[0].Offset != 0 || rs[0].ProducerEpoch != e0 {
		t.Fatalf("read_committed read %d records (%v), want the first transaction's", len(rs), rs)
	}
}

// endTxnV5 ends a transaction with EndTxn v5, checks the error code, and
// returns the epoch answered.
func endTxnV5(ctx context.Context, t *testing.T, cl *kgo.Client, id string, pid int64, epoch int16, commit bool, want int16) int16 {
	t.Helper()
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = id, pid, epoch, commit
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if req.Version != 5 {
		t.Fatalf("sent EndTxn v%d, want v5", req.Version)
	}
	if resp.ErrorCode != want {
		t.Fatalf("EndTxn v5 (epoch %d, commit %v): %v, want %v", epoch, commit, kerr.ErrorForCode(resp.ErrorCode), kerr.ErrorForCode(want))
	}
	return resp.ProducerEpoch
}
