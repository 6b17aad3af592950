package txn

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestInitProducerIDIdempotent(t *testing.T) {
	h := newHarness(t)
	seen := map[int64]bool{}
	for i := range 3 {
		// KIP-360: the producer id and epoch an idempotent producer names
		// do not matter; it gets a new id.
		w := h.apply(h.c.InitProducerID(h.now, initReq(4, "", 0, int64(i)-1, int16(i)-1)))
		resp := w.Response.(*kmsg.InitProducerIDResponse)
		if resp.ErrorCode != 0 || resp.ProducerEpoch != 0 || seen[resp.ProducerID] {
			t.Fatalf("init %d: %+v", i, resp)
		}
		seen[resp.ProducerID] = true
		if i == 0 && len(w.Records) != 1 || i > 0 && len(w.Records) != 0 {
			t.Fatalf("init %d wrote %d records (a block is written once)", i, len(w.Records))
		}
	}
}

func TestInitProducerIDErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  *kmsg.InitProducerIDRequest
		want *kerr.Error
	}{
		{"empty transactional id", func() *kmsg.InitProducerIDRequest {
			r := initReq(5, "", time.Minute, -1, -1)
			r.TransactionalID = kmsg.StringPtr("")
			return r
		}(), kerr.InvalidRequest},
		{"zero timeout", initReq(5, "t", 0, -1, -1), kerr.InvalidTransactionTimeout},
		{"negative timeout", initReq(5, "t", -time.Second, -1, -1), kerr.InvalidTransactionTimeout},
		{"timeout above the maximum", initReq(5, "t", 16*time.Minute, -1, -1), kerr.InvalidTransactionTimeout},
		{"producer id without epoch", initReq(5, "t", time.Minute, 7, -1), kerr.InvalidRequest},
		{"epoch without producer id", initReq(5, "t", time.Minute, -1, 3), kerr.InvalidRequest},
		{"idempotent, epoch without producer id", initReq(5, "", 0, -1, 3), kerr.InvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			w := h.apply(h.c.InitProducerID(h.now, tc.req))
			resp := w.Response.(*kmsg.InitProducerIDResponse)
			wantCode(t, "InitProducerId", resp.ErrorCode, tc.want)
			if resp.ProducerID != -1 || resp.ProducerEpoch != -1 || len(w.Records) != 0 {
				t.Fatalf("refused with producer %d/%d and %d records", resp.ProducerID, resp.ProducerEpoch, len(w.Records))
			}
			if st := h.state("t"); st.ErrorCode != kerr.TransactionalIDNotFound.Code {
				t.Fatalf("the refused id exists: %+v", st)
			}
		})
	}
}

func TestInitProducerIDBumpsEpoch(t *testing.T) {
	h := newHarness(t)
	first := h.newProducer("t")
	if first.epoch != 0 {
		t.Fatalf("first epoch %d", first.epoch)
	}
	second := h.newProducer("t")
	if second.pid != first.pid || second.epoch != 1 {
		t.Fatalf("second init: %+v after %+v", second, first)
	}
	// The first producer is a zombie now.
	wantCode(t, "AddPartitions of the zombie", h.add(first, tp("a", 0)), kerr.ProducerFenced)
	if got := h.c.Summary().Fenced; got != 1 {
		t.Fatalf("fenced counter %d", got)
	}
}

// KIP-360: a producer naming its producer id and epoch.
func TestInitProducerIDWithEpoch(t *testing.T) {
	for _, tc := range []struct {
		name      string
		version   int16
		pid       func(p producer) int64
		epoch     int16 // relative to the current one
		want      *kerr.Error
		wantEpoch int16 // relative
	}{
		{"current epoch", 5, func(p producer) int64 { return p.pid }, 0, nil, 1},
		{"older epoch", 5, func(p producer) int64 { return p.pid }, -1, kerr.ProducerFenced, 0},
		{"newer epoch", 5, func(p producer) int64 { return p.pid }, 1, kerr.ProducerFenced, 0},
		{"older epoch before KIP-588", 3, func(p producer) int64 { return p.pid }, -1, kerr.InvalidProducerEpoch, 0},
		{"another producer id", 5, func(p producer) int64 { return p.pid + 100 }, 0, kerr.ProducerFenced, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.newProducer("t")
			p := h.newProducer("t") // epoch 1: there is an older one
			resp := h.apply(h.c.InitProducerID(h.now, initReq(tc.version, "t", time.Minute, tc.pid(p), p.epoch+tc.epoch))).Response.(*kmsg.InitProducerIDResponse)
			wantCode(t, "InitProducerId", resp.ErrorCode, tc.want)
			h.wantState("t", StateEmpty, p.pid, p.epoch+tc.wantEpoch)
		})
	}
}

// A retried KIP-360 InitProducerId whose answer was lost gets the same
// answer again, until another producer bumps the epoch.
func TestInitProducerIDRetry(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	req := initReq(5, "t", time.Minute, p.pid, p.epoch)
	for range 2 {
		resp := h.apply(h.c.InitProducerID(h.now, req)).Response.(*kmsg.InitProducerIDResponse)
		if resp.ErrorCode != 0 || resp.ProducerID != p.pid || resp.ProducerEpoch != p.epoch+1 {
			t.Fatalf("retry: %+v", resp)
		}
	}
	h.newProducer("t") // another producer: the retry is fenced now
	resp := h.apply(h.c.InitProducerID(h.now, req)).Response.(*kmsg.InitProducerIDResponse)
	wantCode(t, "retry after a new producer", resp.ErrorCode, kerr.ProducerFenced)
}

// An exhausted epoch moves the transactional id to a new producer id.
func TestInitProducerIDRotation(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	h.c.txns["t"].meta.epoch = maxEpoch - 1 // as if 32766 producers had come before
	p.epoch = maxEpoch - 1
	req := initReq(5, "t", time.Minute, p.pid, p.epoch)
	resp := h.apply(h.c.InitProducerID(h.now, req)).Response.(*kmsg.InitProducerIDResponse)
	if resp.ErrorCode != 0 || resp.ProducerID == p.pid || resp.ProducerEpoch != 0 {
		t.Fatalf("rotation: %+v", resp)
	}
	// Its retry (the old producer id, an exhausted epoch) gets the same.
	again := h.apply(h.c.InitProducerID(h.now, req)).Response.(*kmsg.InitProducerIDResponse)
	if again.ErrorCode != 0 || again.ProducerID != resp.ProducerID || again.ProducerEpoch != 0 {
		t.Fatalf("retry of the rotation: %+v, want %+v", again, resp)
	}
	// Without an epoch the rotation happens too.
	h.c.txns["t"].meta.epoch = maxEpoch - 1
	third := h.initPID("t")
	if third.ProducerID == resp.ProducerID || third.ProducerEpoch != 0 {
		t.Fatalf("rotation without epoch: %+v", third)
	}
}

// An InitProducerId while a transaction is open aborts it, with the epoch
// bumped so that its producer is fenced, and answers
// CONCURRENT_TRANSACTIONS until the abort is complete.
func TestInitProducerIDAbortsOngoing(t *testing.T) {
	h := newHarness(t)
	zombie := h.newProducer("t")
	wantCode(t, "AddPartitions", h.add(zombie, tp("a", 0), tp("b", 1)), nil)
	resp := h.initPID("t")
	wantCode(t, "InitProducerId", resp.ErrorCode, kerr.ConcurrentTransactions)
	h.wantState("t", StatePrepareAbort, zombie.pid, zombie.epoch+1)
	if len(h.markers) != 1 || h.markers[0].Commit || h.markers[0].ProducerEpoch != zombie.epoch+1 || len(h.markers[0].Partitions) != 2 {
		t.Fatalf("markers %+v", h.markers)
	}
	wantCode(t, "EndTxn of the zombie", h.end(3, zombie, true).ErrorCode, kerr.ProducerFenced)
	wantCode(t, "retry before the markers", h.initPID("t").ErrorCode, kerr.ConcurrentTransactions)
	h.writeMarkers()
	h.wantState("t", StateCompleteAbort, zombie.pid, zombie.epoch+1)
	fresh := h.newProducer("t")
	if fresh.epoch != zombie.epoch+2 {
		t.Fatalf("epoch after the abort %d", fresh.epoch)
	}
	wantCode(t, "EndTxn of the zombie", h.end(3, zombie, true).ErrorCode, kerr.ProducerFenced)
}

// A transactional id whose first record cannot be written does not exist.
func TestInitProducerIDAppendFails(t *testing.T) {
	h := newHarness(t)
	w := h.c.InitProducerID(h.now, initReq(5, "t", time.Minute, -1, -1))
	wantCode(t, "while writing", h.initPID("t").ErrorCode, kerr.ConcurrentTransactions)
	h.failAppend(w, kerr.NotLeaderForPartition.Code)
	resp := w.Response.(*kmsg.InitProducerIDResponse)
	wantCode(t, "failed append", resp.ErrorCode, kerr.NotCoordinator)
	if resp.ProducerID != -1 {
		t.Fatalf("failed init answered producer %d", resp.ProducerID)
	}
	if st := h.state("t"); st.ErrorCode != kerr.TransactionalIDNotFound.Code {
		t.Fatalf("after the failed write: %+v", st)
	}
	if p := h.newProducer("t"); p.epoch != 0 {
		t.Fatalf("after a failed first write, epoch %d", p.epoch)
	}
}
