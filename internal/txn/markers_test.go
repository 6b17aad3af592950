package txn

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Markers may be reported partition by partition; the transaction
// completes with the last one, and describes the others meanwhile.
func TestMarkersPartial(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	h.add(p, tp("a", 0), tp("a", 1), tp("b", 0))
	h.end(4, p, true)
	m := h.markers[0]
	h.markers = nil
	first := m
	first.Partitions = m.Partitions[:1]
	if w := h.apply(h.c.MarkersWritten(h.now, first)); len(w.Records) != 0 {
		t.Fatalf("a partial report wrote %d records", len(w.Records))
	}
	st := h.state("t")
	if st.State != "PrepareCommit" || len(st.Topics) != 2 || len(st.Topics[0].Partitions) != 1 || st.Topics[0].Partitions[0] != 1 {
		t.Fatalf("described while completing: %+v", st)
	}
	if pending := h.c.PendingMarkers(); len(pending) != 1 || len(pending[0].Partitions) != 2 {
		t.Fatalf("pending markers %+v", pending)
	}
	// A report of markers of another epoch, or outcome, is ignored.
	for _, stale := range []Markers{{TransactionalID: "t", ProducerID: p.pid, ProducerEpoch: p.epoch + 1, Commit: true, Partitions: m.Partitions},
		{TransactionalID: "t", ProducerID: p.pid, ProducerEpoch: p.epoch, Commit: false, Partitions: m.Partitions}} {
		if w := h.apply(h.c.MarkersWritten(h.now, stale)); len(w.Records) != 0 {
			t.Fatalf("stale markers %+v completed the transaction", stale)
		}
	}
	if w := h.apply(h.c.MarkersWritten(h.now, m)); len(w.Records) != 1 {
		t.Fatalf("the last report wrote %d records", len(w.Records))
	}
	h.wantState("t", StateCompleteCommit, p.pid, p.epoch)
	if w := h.apply(h.c.MarkersWritten(h.now, m)); len(w.Records) != 0 {
		t.Fatalf("a report after completion wrote %d records", len(w.Records))
	}
}

// A crash while markers are written: the restarted coordinator hands them
// out again (all of them), and the transaction completes.
func TestMarkersRecovered(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	h.add(p, tp("a", 0), tp("b", 0))
	h.end(5, p, true)
	m := h.markers[0]
	m.Partitions = m.Partitions[:1]
	h.apply(h.c.MarkersWritten(h.now, m)) // one written, then the crash
	recovered := h.restart()
	if len(recovered) != 1 || !recovered[0].Commit || recovered[0].ProducerEpoch != p.epoch+1 || len(recovered[0].Partitions) != 2 {
		t.Fatalf("recovered markers %+v", recovered)
	}
	next := producer{"t", p.pid, p.epoch + 1}
	wantCode(t, "add before completion", h.add(next, tp("a", 0)), kerr.ConcurrentTransactions)
	h.writeMarkers()
	h.wantState("t", StateCompleteCommit, p.pid, p.epoch+1)
	wantCode(t, "add after completion", h.add(next, tp("a", 0)), nil)
	// A retry of the EndTxn whose answer the crash lost.
	h.end(5, next, false)
	h.writeMarkers()
	if len(h.restart()) != 0 {
		t.Fatal("markers recovered for a completed transaction")
	}
}

// A completion whose append fails is retried by Tick and PendingMarkers.
func TestMarkersCompletionRetried(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	h.add(p, tp("a", 0))
	h.end(4, p, false)
	m := h.markers[0]
	h.markers = nil
	h.failAppend(h.c.MarkersWritten(h.now, m), kerr.NotEnoughReplicas.Code)
	h.wantState("t", StatePrepareAbort, p.pid, p.epoch)
	if pending := h.c.PendingMarkers(); len(pending) != 1 || len(pending[0].Partitions) != 0 {
		t.Fatalf("pending after a failed completion: %+v", pending)
	}
	if w := h.apply(h.c.Tick(h.now)); len(w.Records) != 1 {
		t.Fatalf("Tick wrote %d records", len(w.Records))
	}
	h.wantState("t", StateCompleteAbort, p.pid, p.epoch)
}

// A transactions version 1 producer keeps its epoch: a late report of one
// transaction's markers does not count for the next transaction's.
func TestMarkersLateReport(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	h.add(p, tp("a", 0))
	h.end(4, p, true)
	first := h.writeMarkers()[0]
	h.add(p, tp("a", 0))
	h.end(4, p, true)
	if m := h.markers[0]; m.ProducerID != first.ProducerID || m.ProducerEpoch != first.ProducerEpoch || m.Commit != first.Commit {
		t.Fatalf("the second transaction's markers %+v differ from the first's %+v", m, first)
	}
	if w := h.apply(h.c.MarkersWritten(h.now, first)); len(w.Records) != 0 {
		t.Fatal("a late report of the first transaction's markers completed the second")
	}
	h.wantState("t", StatePrepareCommit, p.pid, p.epoch)
	h.writeMarkers()
	h.wantState("t", StateCompleteCommit, p.pid, p.epoch)
}

// A transaction's markers are held by one writer at a time: PendingMarkers
// does not hand out again markers that a writer holds, for a second marker
// written late could end the producer's next transaction (the same
// producer id and epoch with transactions version 1). A writer whose
// writes failed reports none, and the markers are owed again.
func TestMarkersHeldOnce(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	h.add(p, tp("a", 0), tp("b", 0))
	h.end(4, p, true)
	m := h.markers[0]
	h.markers = nil
	if pending := h.c.PendingMarkers(); len(pending) != 0 {
		t.Fatalf("markers a writer holds handed out again: %+v", pending)
	}
	failed := m
	failed.Partitions = nil
	if w := h.apply(h.c.MarkersWritten(h.now, failed)); len(w.Records) != 0 {
		t.Fatalf("a report of no partitions wrote %d records", len(w.Records))
	}
	again := h.c.PendingMarkers()
	if len(again) != 1 || len(again[0].Partitions) != 2 {
		t.Fatalf("after a failed write, pending markers %+v, want the transaction's 2", again)
	}
	if pending := h.c.PendingMarkers(); len(pending) != 0 {
		t.Fatalf("markers handed out twice by PendingMarkers: %+v", pending)
	}
	partial := again[0]
	partial.Partitions = partial.Partitions[:1]
	h.apply(h.c.MarkersWritten(h.now, partial))
	last := h.c.PendingMarkers()
	if len(last) != 1 || len(last[0].Partitions) != 1 || last[0].Partitions[0] != tp("b", 0) {
		t.Fatalf("after a partial write, pending markers %+v, want b-0's", last)
	}
	if w := h.apply(h.c.MarkersWritten(h.now, last[0])); len(w.Records) != 1 {
		t.Fatalf("the last report wrote %d records", len(w.Records))
	}
	h.wantState("t", StateCompleteCommit, p.pid, p.epoch)
}
