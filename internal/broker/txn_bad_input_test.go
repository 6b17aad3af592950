package broker

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestTxnBadInput: requests of transactions that are wrong answer Kafka's
// error codes and write nothing: unknown transactional ids, stale epochs,
// a produce to a partition not in the transaction, an EndTxn without a
// transaction, offsets of a group not added to the transaction. Clients
// of transactions version 1 (the request versions before KIP-890 part 2).
func TestTxnBadInput(t *testing.T) {
	b := startBroker(t, Config{Groups: testGroups()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const topic, id = "bad-txn", "bad-txn"
	admin := adminClient(t, b)
	if _, err := admin.CreateTopic(ctx, 2, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	cl := client(t, b, kgo.MaxVersions(transactionsVersion1()))
	pid, epoch := rawInitProducerID(ctx, t, cl, id)

	addPartition := func(txnID string, pid int64, epoch int16, partition int32) int16 {
		req := kmsg.NewPtrAddPartitionsToTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch = txnID, pid, epoch
		req.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: topic, Partitions: []int32{partition}}}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	endTxn := func(txnID string, pid int64, epoch int16) int16 {
		req := kmsg.NewPtrEndTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = txnID, pid, epoch, true
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.ErrorCode
	}
	txnOffsetCommit := func(group string) int16 {
		req := kmsg.NewPtrTxnOffsetCommitRequest()
		req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch, req.Generation = id, group, pid, epoch, -1
		req.Topics = []kmsg.TxnOffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Partition: 0, Offset: 7, LeaderEpoch: -1}}}}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	for _, tc := range []struct {
		name string
		code func() int16
		want *kerr.Error
	}{
		{"EndTxn without a transaction", func() int16 { return endTxn(id, pid, epoch) }, kerr.InvalidTxnState},
		{"AddPartitionsToTxn of an unknown transactional id", func() int16 { return addPartition("nobody", pid, epoch, 0) }, kerr.InvalidProducerIDMapping},
		{"AddPartitionsToTxn with another producer id", func() int16 { return addPartition(id, pid+1, epoch, 0) }, kerr.InvalidProducerIDMapping},
		{"AddPartitionsToTxn with a stale epoch", func() int16 { return addPartition(id, pid, epoch-1, 0) }, kerr.ProducerFenced},
		{"EndTxn of an unknown transactional id", func() int16 { return endTxn("nobody", pid, epoch) }, kerr.InvalidProducerIDMapping},
		{"produce before any partition is added", func() int16 { return rawTxnProduce(ctx, t, cl, 11, id, topic, pid, epoch, 0) }, kerr.TransactionAbortable},
		{"add partition 1", func() int16 { return addPartition(id, pid, epoch, 1) }, nil},
		{"produce to partition 0, not in the transaction", func() int16 { return rawTxnProduce(ctx, t, cl, 11, id, topic, pid, epoch, 0) }, kerr.TransactionAbortable},
		{"offsets of a group not added", func() int16 { return txnOffsetCommit("g") }, kerr.TransactionAbortable},
		{"produce of an unknown transactional id", func() int16 { return rawTxnProduce(ctx, t, cl, 11, "nobody", topic, pid, epoch, 0) }, kerr.InvalidProducerIDMapping},
		{"produce with a stale epoch", func() int16 { return rawTxnProduce(ctx, t, cl, 11, id, topic, pid, epoch-1, 0) }, kerr.InvalidProducerEpoch},
	} {
		if code := tc.code(); code != errCode(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, kerr.ErrorForCode(code), tc.want)
		}
	}
	// Nothing was written: no record in either partition, no offset.
	for p := range int32(2) {
		part, err := b.engine.Partition(topic, p)
		if err != nil {
			t.Fatal(err)
		}
		if hw := part.Offsets().HighWatermark; hw != 0 {
			t.Errorf("partition %d holds %d records", p, hw)
		}
	}
	offsets, err := admin.FetchOffsets(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offsets.Lookup(topic, 0); ok && o.At >= 0 {
		t.Errorf("the group has an offset: %+v", o)
	}
}

func errCode(err *kerr.Error) int16 {
	if err == nil {
		return 0
	}
	return err.Code
}
