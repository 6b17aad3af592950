package txn

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAddPartitionsStartsTransaction(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	h.advance(time.Second)
	began := h.now
	wantCode(t, "add", h.add(p, tp("a", 0)), nil)
	h.advance(time.Second)
	wantCode(t, "add more", h.add(p, tp("b", 2), tp("a", 0)), nil)
	// Partitions already in the transaction: nothing to write.
	if w := h.apply(h.c.AddPartitionsToTxn(h.now, addReq(3, p, tp("b", 2)))); len(w.Records) != 0 {
		t.Fatalf("adding partitions already added wrote %d records", len(w.Records))
	}
	st := h.state("t")
	if st.State != "Ongoing" || st.StartTimestamp != began.UnixMilli() || len(st.Topics) != 2 ||
		st.Topics[0].Topic != "a" || st.Topics[1].Topic != "b" || st.Topics[1].Partitions[0] != 2 {
		t.Fatalf("described %+v", st)
	}
}

func TestAddPartitionsErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version int16
		setup   func(h *harness, p producer) producer // returns the producer the request names
		want    *kerr.Error
	}{
		{"unknown transactional id", 3, func(h *harness, p producer) producer { p.id = "other"; return p }, kerr.InvalidProducerIDMapping},
		{"empty transactional id", 3, func(h *harness, p producer) producer { p.id = ""; return p }, kerr.InvalidRequest},
		{"another producer id", 3, func(h *harness, p producer) producer { p.pid++; return p }, kerr.InvalidProducerIDMapping},
		{"older epoch", 3, func(h *harness, p producer) producer { h.newProducer("t"); return p }, kerr.ProducerFenced},
		{"older epoch before KIP-588", 1, func(h *harness, p producer) producer { h.newProducer("t"); return p }, kerr.InvalidProducerEpoch},
		{"transaction completing", 3, func(h *harness, p producer) producer {
			h.add(p, tp("a", 9))
			h.end(3, p, true)
			return p
		}, kerr.ConcurrentTransactions},
		{"record being written", 3, func(h *harness, p producer) producer {
			h.c.AddPartitionsToTxn(h.now, addReq(3, p, tp("a", 9))) // not finished
			return p
		}, kerr.ConcurrentTransactions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			p := tc.setup(h, h.newProducer("t"))
			resp := h.apply(h.c.AddPartitionsToTxn(h.now, addReq(tc.version, p, tp("a", 0), tp("b", 1)))).Response.(*kmsg.AddPartitionsToTxnResponse)
			wantCode(t, "AddPartitionsToTxn", sameCode(t, resp.Topics), tc.want)
			if st := h.state("t"); len(st.Topics) > 0 && st.Topics[0].Partitions[0] == 0 {
				t.Fatalf("refused partitions were added: %+v", st)
			}
		})
	}
}

func TestAddPartitionsUnknownPartition(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.PartitionExists = func(topic string, partition int32) bool { return topic == "a" && partition < 2 }
	})
	p := h.newProducer("t")
	resp := h.apply(h.c.AddPartitionsToTxn(h.now, addReq(3, p, tp("a", 0), tp("a", 5), tp("gone", 0)))).Response.(*kmsg.AddPartitionsToTxnResponse)
	got := map[TopicPartition]int16{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			got[tp(rt.Topic, rp.Partition)] = rp.ErrorCode
		}
	}
	wantCode(t, "a/0", got[tp("a", 0)], kerr.OperationNotAttempted)
	wantCode(t, "a/5", got[tp("a", 5)], kerr.UnknownTopicOrPartition)
	wantCode(t, "gone/0", got[tp("gone", 0)], kerr.UnknownTopicOrPartition)
	h.wantState("t", StateEmpty, p.pid, p.epoch)
}

// Version 4+: a partition leader batches transactions, verifying some and
// adding others.
func TestAddPartitionsBatched(t *testing.T) {
	h := newHarness(t)
	v1 := h.newProducer("v1") // a transactions version 1 client
	v2 := h.newProducer("v2") // a version 2 client: its leader adds
	h.add(v1, tp("a", 0))
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = 5
	for _, x := range []struct {
		p      producer
		verify bool
		tps    []int32
	}{{v1, true, []int32{0, 1}}, {v2, false, []int32{3}}, {producer{"nobody", 99, 0}, true, []int32{0}}} {
		tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
		tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = x.p.id, x.p.pid, x.p.epoch, x.verify
		tx.Topics = []kmsg.AddPartitionsToTxnRequestTransactionTopic{{Topic: "a", Partitions: x.tps}}
		req.Transactions = append(req.Transactions, tx)
	}
	w := h.apply(h.c.AddPartitionsToTxn(h.now, req))
	resp := w.Response.(*kmsg.AddPartitionsToTxnResponse)
	if len(w.Records) != 1 || len(resp.Transactions) != 3 {
		t.Fatalf("%d records, %d transactions answered", len(w.Records), len(resp.Transactions))
	}
	codes := func(i int) []int16 {
		var out []int16
		for _, p := range resp.Transactions[i].Topics[0].Partitions {
			out = append(out, p.ErrorCode)
		}
		return out
	}
	wantCode(t, "v1 a/0 verified", codes(0)[0], nil)
	wantCode(t, "v1 a/1 not added", codes(0)[1], kerr.TransactionAbortable)
	wantCode(t, "v2 a/3 added", codes(1)[0], nil)
	wantCode(t, "unknown id", codes(2)[0], kerr.InvalidProducerIDMapping)
	h.wantState("v2", StateOngoing, v2.pid, v2.epoch)
	if h.state("v1").Topics[0].Partitions[0] != 0 || len(h.state("v1").Topics[0].Partitions) != 1 {
		t.Fatalf("verification added a partition: %+v", h.state("v1"))
	}
	// Version 4 predates TRANSACTION_ABORTABLE.
	req.Version = 4
	req.Transactions = req.Transactions[:1]
	resp = h.apply(h.c.AddPartitionsToTxn(h.now, req)).Response.(*kmsg.AddPartitionsToTxnResponse)
	wantCode(t, "v4 not added", resp.Transactions[0].Topics[0].Partitions[1].ErrorCode, kerr.InvalidTxnState)
}

func TestAddOffsetsToTxn(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.OffsetsPartition = func(group string) TopicPartition { return tp("__consumer_offsets", int32(len(group))) }
	})
	p := h.newProducer("t")
	req := kmsg.NewPtrAddOffsetsToTxnRequest()
	req.Version = 3
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = p.id, p.pid, p.epoch, "billing"
	wantCode(t, "AddOffsetsToTxn", h.apply(h.c.AddOffsetsToTxn(h.now, req)).Response.(*kmsg.AddOffsetsToTxnResponse).ErrorCode, nil)
	if err := h.c.VerifyTxnOffsetCommit("t", p.pid, p.epoch, "billing"); err != nil {
		t.Fatalf("offsets commit after AddOffsetsToTxn: %v", err)
	}
	if err := h.c.VerifyTxnOffsetCommit("t", p.pid, p.epoch, "ads"); err != kerr.TransactionAbortable {
		t.Fatalf("offsets commit of another group: %v", err)
	}
	h.end(3, p, true)
	if m := h.markers[0]; len(m.Partitions) != 1 || m.Partitions[0] != tp("__consumer_offsets", 7) {
		t.Fatalf("markers %+v", m)
	}
	h.writeMarkers()
	req.Version = 1
	req.ProducerEpoch--
	wantCode(t, "fenced, version 1", h.apply(h.c.AddOffsetsToTxn(h.now, req)).Response.(*kmsg.AddOffsetsToTxnResponse).ErrorCode, kerr.InvalidProducerEpoch)
}

func TestVerifyProduce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness, p producer) producer
		want  error
	}{
		{"added", func(h *harness, p producer) producer { h.add(p, tp("a", 0)); return p }, nil},
		{"not added", func(h *harness, p producer) producer { h.add(p, tp("a", 1)); return p }, kerr.TransactionAbortable},
		{"no transaction", func(h *harness, p producer) producer { return p }, kerr.TransactionAbortable},
		{"unknown id", func(h *harness, p producer) producer { p.id = "x"; return p }, kerr.InvalidProducerIDMapping},
		{"empty id", func(h *harness, p producer) producer { p.id = ""; return p }, kerr.InvalidRequest},
		{"another producer id", func(h *harness, p producer) producer { h.add(p, tp("a", 0)); p.pid++; return p }, kerr.InvalidProducerIDMapping},
		{"fenced", func(h *harness, p producer) producer { h.add(p, tp("a", 0)); h.initPID("t"); return p }, kerr.ProducerFenced},
		{"completing", func(h *harness, p producer) producer { h.add(p, tp("a", 0)); h.end(3, p, true); return p }, kerr.ConcurrentTransactions},
		{"completed", func(h *harness, p producer) producer {
			h.add(p, tp("a", 0))
			h.end(3, p, true)
			h.writeMarkers()
			return p
		}, kerr.TransactionAbortable},
		{"being added", func(h *harness, p producer) producer {
			h.c.AddPartitionsToTxn(h.now, addReq(3, p, tp("a", 0))) // not finished
			return p
		}, kerr.TransactionAbortable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			p := tc.setup(h, h.newProducer("t"))
			if err := h.c.VerifyProduce(p.id, p.pid, p.epoch, tp("a", 0)); err != tc.want {
				t.Fatalf("VerifyProduce: %v, want %v", err, tc.want)
			}
		})
	}
}

// A transactions version 2 client's partitions are added by their
// leaders: the first produce of a transaction starts it.
func TestAddToTransaction(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	w := h.apply(h.c.AddToTransaction(h.now, "t", p.pid, p.epoch, []TopicPartition{tp("a", 0)}))
	if w.Err != nil || len(w.Records) != 1 {
		t.Fatalf("AddToTransaction: %v, %d records", w.Err, len(w.Records))
	}
	h.wantState("t", StateOngoing, p.pid, p.epoch)
	if w := h.apply(h.c.AddToTransaction(h.now, "t", p.pid, p.epoch, []TopicPartition{tp("a", 0)})); w.Err != nil || len(w.Records) != 0 {
		t.Fatalf("again: %v, %d records", w.Err, len(w.Records))
	}
	if w := h.apply(h.c.AddToTransaction(h.now, "t", p.pid, p.epoch-1, []TopicPartition{tp("a", 1)})); w.Err != kerr.ProducerFenced {
		t.Fatalf("older epoch: %v", w.Err)
	}
	w = h.c.AddToTransaction(h.now, "t", p.pid, p.epoch, []TopicPartition{tp("a", 2)})
	h.failAppend(w, kerr.RequestTimedOut.Code)
	if w.Err != kerr.CoordinatorNotAvailable {
		t.Fatalf("failed append: %v", w.Err)
	}
	if err := h.c.VerifyProduce("t", p.pid, p.epoch, tp("a", 2)); err != kerr.TransactionAbortable {
		t.Fatalf("a partition whose add failed: %v", err)
	}
}
