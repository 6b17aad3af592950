package txn

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A transaction open longer than its timeout is aborted with its epoch
// bumped: its producer is fenced.
func TestTickAbortsTimedOut(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t") // timeout one minute
	other := h.newProducer("u")
	h.add(p, tp("a", 0))
	h.advance(30 * time.Second)
	h.add(other, tp("a", 1))
	if got, want := h.c.NextDeadline(), start.Add(time.Minute+time.Millisecond); !got.Equal(want) {
		t.Fatalf("next deadline %v, want %v", got, want)
	}
	h.advance(30 * time.Second)
	if w := h.apply(h.c.Tick(h.now)); len(w.Records) != 0 {
		t.Fatalf("Tick at the timeout wrote %d records (Kafka aborts after it)", len(w.Records))
	}
	h.advance(time.Millisecond)
	w := h.apply(h.c.Tick(h.now))
	if len(w.Records) != 1 || len(w.Markers) != 1 || w.Markers[0].Commit || w.Markers[0].ProducerEpoch != p.epoch+1 {
		t.Fatalf("Tick after the timeout: %d records, markers %+v", len(w.Records), w.Markers)
	}
	h.wantState("t", StatePrepareAbort, p.pid, p.epoch+1)
	h.wantState("u", StateOngoing, other.pid, other.epoch)
	h.writeMarkers()
	h.wantState("t", StateCompleteAbort, p.pid, p.epoch+1)
	wantCode(t, "EndTxn of the timed out producer", h.end(4, p, true).ErrorCode, kerr.ProducerFenced)
	wantCode(t, "EndTxn v5 of the timed out producer", h.end(5, p, true).ErrorCode, kerr.InvalidTxnState)
	if err := h.c.VerifyProduce("t", p.pid, p.epoch, tp("a", 0)); err != kerr.ProducerFenced {
		t.Fatalf("produce of the timed out producer: %v", err)
	}
	if s := h.c.Summary(); s.TimedOut != 1 || s.Aborts != 1 || s.Open != 1 {
		t.Fatalf("summary %+v", s)
	}
}

// Transactional ids unused for the expiration time are deleted; those
// with an open transaction are not.
func TestTickExpiresIDs(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.IDExpiration = 24 * time.Hour })
	h.restart()
	idle := h.newProducer("idle")
	busy := h.newProducer("busy")
	h.add(busy, tp("a", 0))
	h.c.txns["busy"].meta.timeoutMs = int32((48 * time.Hour).Milliseconds()) // outlives the expiration
	h.advance(24 * time.Hour)
	w := h.apply(h.c.Tick(h.now))
	if len(w.Records) != 1 || w.Records[0].Value != nil {
		t.Fatalf("expiration wrote %d records", len(w.Records))
	}
	if st := h.state("idle"); st.ErrorCode != kerr.TransactionalIDNotFound.Code {
		t.Fatalf("expired id described %+v", st)
	}
	h.wantState("busy", StateOngoing, busy.pid, busy.epoch)
	wantCode(t, "add of the expired id", h.add(idle, tp("a", 0)), kerr.InvalidProducerIDMapping)
	if s := h.c.Summary(); s.Expired != 1 || s.TransactionalIDs != 1 {
		t.Fatalf("summary %+v", s)
	}
	// The tombstone replays: the id is gone after a restart too; a new
	// producer gets a new producer id.
	h.restart()
	if st := h.state("idle"); st.ErrorCode != kerr.TransactionalIDNotFound.Code {
		t.Fatalf("expired id after restart: %+v", st)
	}
	if p := h.newProducer("idle"); p.pid == idle.pid || p.epoch != 0 {
		t.Fatalf("re-created id: %+v, was %+v", p, idle)
	}
}

// A timed out transaction at an exhausted epoch is fenced at the last
// epoch and moves to a new producer id when the abort completes
// (KAFKA-20090).
func TestTickAbortsAtExhaustedEpoch(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	h.c.txns["t"].meta.epoch = maxEpoch - 1
	p.epoch = maxEpoch - 1
	h.add(p, tp("a", 0))
	h.advance(2 * time.Minute)
	w := h.apply(h.c.Tick(h.now))
	if len(w.Markers) != 1 || w.Markers[0].ProducerID != p.pid || w.Markers[0].ProducerEpoch != maxEpoch {
		t.Fatalf("markers %+v", w.Markers)
	}
	h.writeMarkers()
	st := h.state("t")
	if st.State != "CompleteAbort" || st.ProducerID == p.pid || st.ProducerEpoch != 0 {
		t.Fatalf("after the abort: %+v", st)
	}
	// The producer's retry of the rotation (KIP-360, its old producer id
	// and exhausted epoch) is fenced: the abort fenced it.
	resp := h.apply(h.c.InitProducerID(h.now, initReq(5, "t", time.Minute, p.pid, p.epoch))).Response.(*kmsg.InitProducerIDResponse)
	wantCode(t, "the fenced producer's InitProducerId", resp.ErrorCode, kerr.ProducerFenced)
	if next := h.newProducer("t"); next.pid != st.ProducerID || next.epoch != 1 {
		t.Fatalf("a new producer: %+v", next)
	}
}
