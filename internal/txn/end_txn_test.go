package txn

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Transactions version 1: commit, markers, complete; the epoch stays.
func TestEndTxnCommit(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	h.add(p, tp("a", 0), tp("b", 0))
	resp := h.end(4, p, true)
	wantCode(t, "EndTxn", resp.ErrorCode, nil)
	h.wantState("t", StatePrepareCommit, p.pid, p.epoch)
	if len(h.markers) != 1 || !h.markers[0].Commit || h.markers[0].ProducerEpoch != p.epoch || len(h.markers[0].Partitions) != 2 {
		t.Fatalf("markers %+v", h.markers)
	}
	h.writeMarkers()
	h.wantState("t", StateCompleteCommit, p.pid, p.epoch)
	// The next transaction, same epoch.
	wantCode(t, "next transaction", h.add(p, tp("a", 0)), nil)
	wantCode(t, "abort it", h.end(4, p, false).ErrorCode, nil)
	h.writeMarkers()
	h.wantState("t", StateCompleteAbort, p.pid, p.epoch)
	if s := h.c.Summary(); s.Commits != 1 || s.Aborts != 1 || s.Open != 0 || s.TransactionalIDs != 1 {
		t.Fatalf("summary %+v", s)
	}
}

func TestEndTxnErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version int16
		commit  bool
		setup   func(h *harness, p producer) producer
		want    *kerr.Error
	}{
		{"unknown id", 4, true, func(h *harness, p producer) producer { p.id = "x"; return p }, kerr.InvalidProducerIDMapping},
		{"empty id", 4, true, func(h *harness, p producer) producer { p.id = ""; return p }, kerr.InvalidRequest},
		{"another producer id", 4, true, func(h *harness, p producer) producer { h.add(p, tp("a", 0)); p.pid++; return p }, kerr.InvalidProducerIDMapping},
		{"older epoch", 4, true, func(h *harness, p producer) producer { h.newProducer("t"); return p }, kerr.ProducerFenced},
		{"older epoch before KIP-588", 1, true, func(h *harness, p producer) producer { h.newProducer("t"); return p }, kerr.InvalidProducerEpoch},
		{"no transaction, commit", 4, true, func(h *harness, p producer) producer { return p }, kerr.InvalidTxnState},
		{"no transaction, abort", 4, false, func(h *harness, p producer) producer { return p }, kerr.InvalidTxnState},
		{"commit while committing", 4, true, func(h *harness, p producer) producer { h.add(p, tp("a", 0)); h.end(4, p, true); return p }, kerr.ConcurrentTransactions},
		{"abort while committing", 4, false, func(h *harness, p producer) producer { h.add(p, tp("a", 0)); h.end(4, p, true); return p }, kerr.ConcurrentTransactions},
		{"abort after commit", 4, false, func(h *harness, p producer) producer {
			h.add(p, tp("a", 0))
			h.end(4, p, true)
			h.writeMarkers()
			return p
		}, kerr.InvalidTxnState},
		{"commit after abort", 4, true, func(h *harness, p producer) producer {
			h.add(p, tp("a", 0))
			h.end(4, p, false)
			h.writeMarkers()
			return p
		}, kerr.InvalidTxnState},
		{"v2 commit without transaction", 5, true, func(h *harness, p producer) producer { return p }, kerr.InvalidTxnState},
		{"v2 older epoch", 5, true, func(h *harness, p producer) producer { h.add(p, tp("a", 0)); p.epoch--; return p }, kerr.ProducerFenced},
		{"v2 retry without transaction", 5, false, func(h *harness, p producer) producer { h.newProducer("t"); return p }, kerr.ProducerFenced},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			p := tc.setup(h, h.newProducer("t"))
			resp := h.end(tc.version, p, tc.commit)
			wantCode(t, "EndTxn", resp.ErrorCode, tc.want)
			if resp.ProducerID != -1 || resp.ProducerEpoch != -1 {
				t.Fatalf("refused EndTxn answered producer %d/%d", resp.ProducerID, resp.ProducerEpoch)
			}
		})
	}
}

// A second EndTxn while the first one's markers are written is
// CONCURRENT_TRANSACTIONS; a retry after completion succeeds for the same
// outcome and is INVALID_TXN_STATE for the other, in both versions.
func TestEndTxnRetries(t *testing.T) {
	for _, version := range []int16{4, 5} {
		h := newHarness(t)
		p := h.newProducer("t")
		h.add(p, tp("a", 0))
		first := h.end(version, p, true)
		wantCode(t, "EndTxn", first.ErrorCode, nil)
		wantCode(t, "EndTxn while its markers are written", h.end(version, p, true).ErrorCode, kerr.ConcurrentTransactions)
		wantCode(t, "abort while markers are written", h.end(version, p, false).ErrorCode, kerr.ConcurrentTransactions)
		h.writeMarkers()
		retry := h.end(version, p, true)
		wantCode(t, "retried commit", retry.ErrorCode, nil)
		if retry.ProducerID != first.ProducerID || retry.ProducerEpoch != first.ProducerEpoch {
			t.Fatalf("v%d retry answered %d/%d, first %d/%d", version, retry.ProducerID, retry.ProducerEpoch, first.ProducerID, first.ProducerEpoch)
		}
		wantCode(t, "abort after commit", h.end(version, p, false).ErrorCode, kerr.InvalidTxnState)
		if len(h.markers) != 0 {
			t.Fatalf("v%d: retries handed out markers %+v", version, h.markers)
		}
	}
}

// KIP-890: with version 5 every EndTxn bumps the epoch, so that a late
// EndTxn (or produce) of one transaction cannot end the next.
func TestEndTxnBumpsEpoch(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	for i := range 3 {
		h.add(p, tp("a", 0))
		resp := h.end(5, p, i%2 == 0)
		if resp.ErrorCode != 0 || resp.ProducerID != p.pid || resp.ProducerEpoch != p.epoch+1 {
			t.Fatalf("transaction %d: %+v after %+v", i, resp, p)
		}
		if m := h.markers[0]; m.ProducerEpoch != p.epoch+1 || m.TransactionVersion != 2 {
			t.Fatalf("markers of transaction %d: %+v (the bumped epoch fences the old one in the partitions)", i, m)
		}
		h.writeMarkers()
		late := p // the previous transaction's EndTxn, duplicated
		p.epoch = resp.ProducerEpoch
		h.add(p, tp("b", 0))
		wantCode(t, "late EndTxn", h.end(5, late, true).ErrorCode, kerr.ProducerFenced)
		h.wantState("t", StateOngoing, p.pid, p.epoch)
		if err := h.c.VerifyProduce("t", late.pid, late.epoch, tp("b", 0)); err != kerr.ProducerFenced {
			t.Fatalf("late produce: %v", err)
		}
		if w := h.apply(h.c.AddToTransaction(h.now, "t", late.pid, late.epoch, []TopicPartition{tp("c", 0)})); w.Err != kerr.ProducerFenced {
			t.Fatalf("late add: %v", w.Err)
		}
		resp = h.end(5, p, false)
		h.writeMarkers()
		p.epoch = resp.ProducerEpoch
	}
}

// Version 5 in Empty and Complete states, as Kafka's table: PF
// PRODUCER_FENCED, ITS INVALID_TXN_STATE, none (a retry), or a bump (an
// abort without partitions).
func TestEndTxnV2States(t *testing.T) {
	setups := map[string]func(h *harness, p producer) producer{
		"Empty": func(h *harness, p producer) producer { return p },
		"CompleteAbort": func(h *harness, p producer) producer {
			h.add(p, tp("a", 0))
			r := h.end(5, p, false)
			h.writeMarkers()
			p.epoch = r.ProducerEpoch
			return p
		},
		"CompleteCommit": func(h *harness, p producer) producer {
			h.add(p, tp("a", 0))
			r := h.end(5, p, true)
			h.writeMarkers()
			p.epoch = r.ProducerEpoch
			return p
		},
	}
	for _, tc := range []struct {
		state  string
		retry  bool
		commit bool
		want   *kerr.Error
		bump   bool
	}{
		{"Empty", true, false, kerr.ProducerFenced, false},
		{"Empty", false, false, nil, true},
		{"Empty", true, true, kerr.ProducerFenced, false},
		{"Empty", false, true, kerr.InvalidTxnState, false},
		{"CompleteAbort", true, false, nil, false},
		{"CompleteAbort", false, false, nil, true},
		{"CompleteAbort", true, true, kerr.InvalidTxnState, false},
		{"CompleteAbort", false, true, kerr.InvalidTxnState, false},
		{"CompleteCommit", true, false, kerr.InvalidTxnState, false},
		{"CompleteCommit", false, false, nil, true},
		{"CompleteCommit", true, true, nil, false},
		{"CompleteCommit", false, true, kerr.InvalidTxnState, false},
	} {
		h := newHarness(t)
		h.newProducer("t")
		p := setups[tc.state](h, h.newProducer("t")) // epoch 1+: there is a retry epoch
		req := p
		if tc.retry {
			req.epoch--
		}
		resp := h.end(5, req, tc.commit)
		what := tc.state
		wantCode(t, what, resp.ErrorCode, tc.want)
		switch {
		case tc.bump:
			if resp.ProducerEpoch != p.epoch+1 || len(h.markers) != 1 || len(h.markers[0].Partitions) != 0 {
				t.Fatalf("%s abort: %+v, markers %+v", what, resp, h.markers)
			}
			h.writeMarkers()
			h.wantState("t", StateCompleteAbort, p.pid, p.epoch+1)
		case tc.want == nil:
			if resp.ProducerEpoch != p.epoch || len(h.markers) != 0 {
				t.Fatalf("%s retry: %+v, markers %+v", what, resp, h.markers)
			}
		}
	}
}

// An exhausted epoch: the commit moves the id to a new producer id, which
// the answer carries; the client may use it before the markers are
// written without being refused for its producer id.
func TestEndTxnV2Overflow(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	h.c.txns["t"].meta.epoch = maxEpoch - 1
	p.epoch = maxEpoch - 1
	h.add(p, tp("a", 0))
	resp := h.end(5, p, true)
	if resp.ErrorCode != 0 || resp.ProducerID == p.pid || resp.ProducerEpoch != 0 {
		t.Fatalf("EndTxn at an exhausted epoch: %+v", resp)
	}
	if m := h.markers[0]; m.ProducerID != p.pid || m.ProducerEpoch != maxEpoch {
		t.Fatalf("markers %+v", m)
	}
	next := producer{"t", resp.ProducerID, 0}
	wantCode(t, "add with the next producer id, markers pending", h.add(next, tp("a", 1)), kerr.ConcurrentTransactions)
	h.writeMarkers()
	h.wantState("t", StateCompleteCommit, next.pid, 0)
	retry := h.end(5, p, true)
	if retry.ErrorCode != 0 || retry.ProducerID != next.pid || retry.ProducerEpoch != 0 {
		t.Fatalf("retry across the rotation: %+v", retry)
	}
	wantCode(t, "next transaction", h.add(next, tp("a", 1)), nil)
	wantCode(t, "old producer id", h.end(5, producer{"t", p.pid, 5}, true).ErrorCode, kerr.InvalidProducerIDMapping)
}

// A decision that cannot be written is not taken.
func TestEndTxnAppendFails(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	h.add(p, tp("a", 0))
	w := h.c.EndTxn(h.now, endReq(5, p, true))
	h.failAppend(w, kerr.KafkaStorageError.Code)
	resp := w.Response.(*kmsg.EndTxnResponse)
	wantCode(t, "failed append", resp.ErrorCode, kerr.NotCoordinator)
	if resp.ProducerID != -1 || len(w.Markers) != 0 {
		t.Fatalf("markers after a failed append: %+v", w.Markers)
	}
	h.wantState("t", StateOngoing, p.pid, p.epoch)
	wantCode(t, "retry", h.end(5, p, true).ErrorCode, nil)
}
