package storage

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage/commitlog"
	"github.com/weir-io/weir/internal/vfs"
)

// txnStep is one batch of a scripted partition and what it must leave.
type txnStep struct {
	kind       byte
	producer   int64
	wantStable int64
}

// txnScript interleaves five producers' transactions, committed and
// aborted in an order other than the one they opened in, with a plain
// batch and markers for producers with nothing open. One record a batch,
// so the offset of a step is its index.
var txnScript = []txnStep{
	{txnData, 1, 0},   // 0: producer 1 opens
	{txnPlain, -1, 0}, // 1
	{txnData, 2, 0},   // 2: producer 2 opens
	{txnData, 1, 0},   // 3
	{txnCommit, 2, 0}, // 4: producer 2 commits; 1 is still open
	{txnData, 3, 0},   // 5: producer 3 opens
	{txnAbort, 1, 5},  // 6: producer 1 aborts [0, 6]: 3 is the oldest
	{txnCommit, 3, 8}, // 7: nothing open: the high watermark
	{txnCommit, 4, 9}, // 8: a marker with nothing open changes nothing
	{txnData, 4, 9},   // 9: producer 4 opens
	{txnData, 5, 9},   // 10: producer 5 opens
	{txnAbort, 4, 10}, // 11: producer 4 aborts [9, 11]
	{txnAbort, 5, 13}, // 12: producer 5 aborts [10, 12]
	{txnAbort, 5, 14}, // 13: again: nothing open, nothing aborted
	{txnData, 1, 14},  // 14: producer 1 opens again
}

var txnScriptAborted = []AbortedTransaction{{1, 0, 6}, {4, 9, 11}, {5, 10, 12}}

func durabilities() map[string]commitlog.Durability {
	return map[string]commitlog.Durability{
		"durable": {Mode: commitlog.Durable},
		"none":    {Mode: commitlog.None},
	}
}

func TestLastStableOffset(t *testing.T) {
	for name, durability := range durabilities() {
		t.Run(name, func(t *testing.T) {
			opts := testOptions(t.TempDir())
			opts.Durability = durability
			e := openTest(t, opts)
			defer e.Close()
			if _, err := e.CreateTopic("t", 1, e.TopicDefaults()); err != nil {
				t.Fatal(err)
			}
			p, _ := e.Partition("t", 0)
			w := newTxnWriter(t, p, durability.Mode == commitlog.Durable)
			for i, s := range txnScript {
				if base := w.append(s.kind, s.producer, 1); base != int64(i) {
					t.Fatalf("step %d appended at %d", i, base)
				}
				off := p.Offsets()
				if off.LastStable != s.wantStable || off.HighWatermark != int64(i+1) {
					t.Fatalf("after step %d (%c of producer %d): last stable offset %d, high watermark %d; want %d, %d",
						i, s.kind, s.producer, off.LastStable, off.HighWatermark, s.wantStable, i+1)
				}
				checkTxns(t, "step", p, w.model)
			}
			if got, _ := p.AbortedTransactions(0, math.MaxInt64); !slices.Equal(got, txnScriptAborted) {
				t.Fatalf("aborted transactions %v, want %v", got, txnScriptAborted)
			}
		})
	}
}

// Under the durable policy a transaction holds the last stable offset back
// until its marker is synced, as Kafka holds it until the marker is
// replicated: a read_committed consumer never reads a transaction whose
// marker a crash could take back.
func TestLastStableWaitsForMarkerSync(t *testing.T) {
	fs := vfs.NewFaulty(vfs.Default)
	opts := testOptions(t.TempDir())
	opts.FS = fs
	e := openTest(t, opts)
	defer e.Close()
	if _, err := e.CreateTopic("t", 1, e.TopicDefaults()); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	w := newTxnWriter(t, p, true)
	w.append(txnData, 1, 2) // [0, 1]
	w.append(txnData, 2, 1) // 2

	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()
	fs.SetHook(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync {
			<-release
		}
		return nil
	})
	w.durable = false
	w.append(txnAbort, 1, 0)  // 3, not synced
	w.append(txnCommit, 2, 0) // 4, not synced
	off := p.Offsets()
	if off.HighWatermark != 3 || off.LastStable != 0 {
		t.Fatalf("markers not synced: high watermark %d, last stable %d; want 3 and 0", off.HighWatermark, off.LastStable)
	}
	if r, err := p.ReadCommitted(0, 1<<20); err != nil || r.Batches != 0 || r.LastStable != 0 {
		t.Fatalf("read_committed before the markers are synced: %d batches, last stable %d, %v", r.Batches, r.LastStable, err)
	}
	if r, err := p.Read(0, 1<<20); err != nil || r.Batches != 2 {
		t.Fatalf("read_uncommitted before the markers are synced: %d batches, %v", r.Batches, err)
	}

	open()
	if err := e.WaitDurable(t.Context(), AppendResult{end: e.log.Written()}); err != nil {
		t.Fatal(err)
	}
	if off := p.Offsets(); off.HighWatermark != 5 || off.LastStable != 5 {
		t.Fatalf("markers synced: high watermark %d, last stable %d; want 5 and 5", off.HighWatermark, off.LastStable)
	}
	r, err := p.ReadCommitted(0, 1<<20)
	if err != nil || r.Batches != 4 || !slices.Equal(r.Aborted, []AbortedTransaction{{1, 0, 3}}) {
		t.Fatalf("read_committed after the sync: %d batches, aborted %v, %v", r.Batches, r.Aborted, err)
	}
	checkTxns(t, "after the sync", p, w.model)
}

func TestAbortedTransactionsLookup(t *testing.T) {
	e := openTest(t, testOptions(t.TempDir()))
	defer e.Close()
	if _, err := e.CreateTopic("t", 1, e.TopicDefaults()); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	w := newTxnWriter(t, p, false)
	for _, s := range txnScript {
		w.append(s.kind, s.producer, 1)
	}
	a1, a4, a5 := txnScriptAborted[0], txnScriptAborted[1], txnScriptAborted[2]
	tests := []struct {
		name     string
		from, to int64
		want     []AbortedTransaction
	}{
		{"everything", 0, math.MaxInt64, txnScriptAborted},
		{"empty range", 5, 5, nil},
		{"inverted range", 9, 3, nil},
		{"the first offset only", 0, 1, []AbortedTransaction{a1}},
		{"inside the first", 2, 4, []AbortedTransaction{a1}},
		{"its marker only", 6, 7, []AbortedTransaction{a1}},
		{"between", 7, 9, nil},
		{"up to the first offset of the next, excluded", 7, 9, nil},
		{"two overlapping", 11, 12, []AbortedTransaction{a4, a5}},
		{"the second starts inside the first", 9, 11, []AbortedTransaction{a4, a5}},
		{"before the second starts", 9, 10, []AbortedTransaction{a4}},
		{"after the last marker", 13, 100, nil},
		{"from a negative offset", -5, 1, []AbortedTransaction{a1}},
	}
	for _, tt := range tests {
		got, err := p.AbortedTransactions(tt.from, tt.to)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: [%d, %d): %v, %v; want %v", tt.name, tt.from, tt.to, got, err, tt.want)
		}
	}
	// And every range against the model.
	for from := int64(0); from <= w.model.next; from++ {
		for to := from; to <= w.model.next+1; to++ {
			got, err := p.AbortedTransactions(from, to)
			if want := w.model.abortedIn(from, to); err != nil || !slices.Equal(got, want) {
				t.Fatalf("[%d, %d): %v, %v; want %v", from, to, got, err, want)
			}
		}
	}
}

// randomTxns appends n random batches of producers transactions, plain
// batches and markers (some for producers with nothing open).
func randomTxns(w *txnWriter, rng *rand.Rand, producers, n int) {
	for range n {
		producer := int64(1 + rng.IntN(producers))
		_, open := w.model.open[producer]
		switch r := rng.IntN(10); {
		case r == 0:
			w.append(txnPlain, -1, 1+rng.IntN(3))
		case r == 1:
			w.append(txnCommit, producer, 0) // open or not
		case open && r < 4:
			w.append(txnCommit, producer, 0)
		case open && r < 6:
			w.append(txnAbort, producer, 0)
		default:
			w.append(txnData, producer, 1+rng.IntN(4))
		}
	}
}

// ReadCommitted returns only batches below the last stable offset, and
// exactly the aborted transactions that overlap what it returns.
func TestReadCommitted(t *testing.T) {
	e := openTest(t, testOptions(t.TempDir()))
	defer e.Close()
	if _, err := e.CreateTopic("t", 1, e.TopicDefaults()); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	w := newTxnWriter(t, p, false)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 8 {
		randomTxns(w, rng, 4, 40)
		checkTxns(t, "random", p, w.model)
		off := p.Offsets()
		for offset := off.LogStart; offset <= off.HighWatermark; offset++ {
			maxBytes := 1 + rng.IntN(600)
			r, err := p.ReadCommitted(offset, maxBytes)
			if err != nil {
				t.Fatalf("round %d: read_committed at %d: %v", round, offset, err)
			}
			if r.LastStable != off.LastStable {
				t.Fatalf("round %d: last stable %d, want %d", round, r.LastStable, off.LastStable)
			}
			batches, err := recordbatch.Split(r.Records)
			if err != nil || len(batches) != r.Batches {
				t.Fatalf("round %d: %d batches (%d said), %v", round, len(batches), r.Batches, err)
			}
			if offset < off.LastStable && len(batches) == 0 {
				t.Fatalf("round %d: nothing read at %d below the last stable offset %d", round, offset, off.LastStable)
			}
			end := offset
			for _, b := range batches {
				h, _ := recordbatch.ReadHeader(b)
				if h.LastOffset() >= off.LastStable {
					t.Fatalf("round %d: read at %d returned a batch [%d, %d] at or past the last stable offset %d",
						round, offset, h.BaseOffset, h.LastOffset(), off.LastStable)
				}
				end = h.LastOffset() + 1
			}
			if want := w.model.abortedIn(offset, end); !slices.Equal(r.Aborted, want) {
				t.Fatalf("round %d: read at %d up to %d: aborted %v, want %v", round, offset, end, r.Aborted, want)
			}
			r.Release()
		}
		for _, offset := range []int64{off.LogStart - 1, off.HighWatermark + 1} {
			if _, err := p.ReadCommitted(offset, 1<<20); !errors.Is(err, ErrOffsetOutOfRange) {
				t.Fatalf("read_committed at %d: %v, want out of range", offset, err)
			}
		}
		// Close some transactions, so that the next round moves on.
		for producer := range w.model.open {
			if rng.IntN(2) == 0 {
				w.append(txnCommit, producer, 0)
			}
		}
	}
}

// A batch of a producer with an open transaction must be part of it.
func TestInvalidTxnState(t *testing.T) {
	e := openTest(t, testOptions(t.TempDir()))
	defer e.Close()
	if _, err := e.CreateTopic("t", 1, e.TopicDefaults()); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	if _, err := p.Append(txnBatch(t, 9, 0, rec{value: []byte("in")})); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Append(idempotentBatch(t, 9, 0, 1, 1)); !errors.Is(err, ErrInvalidTxnState) {
		t.Fatalf("a batch outside the open transaction: %v", err)
	}
	if _, err := p.Append(markerBatch(t, 9, true)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Append(idempotentBatch(t, 9, 0, 1, 1)); err != nil {
		t.Fatalf("after the commit: %v", err)
	}
}

// The transactions survive a restart, with and without a checkpoint after
// the batches (those after the checkpoint are replayed; the index holds
// them already, and the replay must not apply them twice), and a rebuild
// of the index from the log.
func TestTransactionsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	e := openTest(t, opts)
	if _, err := e.CreateTopic("t", 2, e.TopicDefaults()); err != nil {
		t.Fatal(err)
	}
	p0, _ := e.Partition("t", 0)
	p1, _ := e.Partition("t", 1)
	rng := rand.New(rand.NewPCG(3, 4))
	w0, w1 := newTxnWriter(t, p0, false), newTxnWriter(t, p1, false)
	randomTxns(w0, rng, 4, 60)
	if err := e.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	randomTxns(w0, rng, 4, 30) // after the checkpoint: replayed
	randomTxns(w1, rng, 3, 60)
	for _, w := range []*txnWriter{w0, w1} { // at least one left open
		if len(w.model.open) == 0 {
			w.append(txnData, 1, 1)
		}
	}
	// A crash: the engine is abandoned, not closed (no checkpoint).
	e.log.Close()
	e.db.Close()

	reopen := func(what string) *Engine {
		e := openTest(t, opts)
		p0, _ := e.Partition("t", 0)
		p1, _ := e.Partition("t", 1)
		checkTxns(t, what+", partition 0", p0, w0.model)
		checkTxns(t, what+", partition 1", p1, w1.model)
		return e
	}
	e = reopen("after a crash")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = reopen("after a clean close")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	e = reopen("after an index rebuild")
	defer e.Close()
	// The transactions left open go on.
	p0, _ = e.Partition("t", 0)
	w0.p = p0
	for producer := range w0.model.open {
		w0.append(txnAbort, producer, 0)
	}
	checkTxns(t, "after the open transactions were aborted", p0, w0.model)
	if off := p0.Offsets(); off.LastStable != off.HighWatermark {
		t.Fatalf("nothing open, last stable %d, high watermark %d", off.LastStable, off.HighWatermark)
	}
}

// After a machine crash Pebble may hold the effect of batches the log
// lost. Open undoes it: transactions the lost batches opened are gone,
// an abort marker that was lost reopens its transaction.
func TestTransactionsPastLogEnd(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	e := openTest(t, opts)
	if _, err := e.CreateTopic("t", 1, e.TopicDefaults()); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	w := newTxnWriter(t, p, true)
	w.append(txnData, 1, 2) // [0, 1]
	w.append(txnData, 2, 1) // 2
	w.append(txnData, 3, 1) // 3
	w.append(txnCommit, 3, 0)
	if err := e.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	kept := *w.model
	kept.open = map[int64]int64{1: 0, 2: 2}
	w.append(txnAbort, 1, 0) // 5: lost
	w.append(txnData, 4, 1)  // 6: lost
	w.append(txnAbort, 4, 0) // 7: lost
	w.append(txnData, 5, 1)  // 8: lost
	lost, _, err := findBatch(e.db, p.id, 5)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := e.log.SegmentBase(lost.position)
	name := filepath.Join(dir, "log", fmt.Sprintf("%020d.log", base))
	e.log.Close()
	e.db.Close()
	// The power cut: the log loses everything from offset 5 on; Pebble
	// (closed, so all of it on disk) keeps it.
	if err := os.Truncate(name, int64(lost.position-base)); err != nil {
		t.Fatal(err)
	}

	e = openTest(t, opts)
	p, _ = e.Partition("t", 0)
	if off := p.Offsets(); off.LogEnd != 5 {
		t.Fatalf("log end %d after the cut, want 5", off.LogEnd)
	}
	checkTxns(t, "after the cut", p, &kept)
	// New batches take the lost offsets, and survive a crash.
	w = newTxnWriter(t, p, false)
	w.model = &kept
	w.seqs = map[int64]int32{4: 1, 5: 1}
	w.append(txnAbort, 2, 0) // 5
	w.append(txnData, 4, 1)  // 6
	e.log.Close()
	e.db.Close()
	e = openTest(t, opts)
	defer e.Close()
	p, _ = e.Partition("t", 0)
	checkTxns(t, "after a replay over the lost offsets", p, &kept)
}

// Retention and DeleteRecords drop the aborted transactions whose marker
// falls below the new log start; a transaction open below it holds the
// last stable offset at the log start.
func TestTransactionsBelowLogStart(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	e := openTest(t, opts)
	if _, err := e.CreateTopic("t", 1, e.TopicDefaults()); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	w := newTxnWriter(t, p, true)
	for _, s := range txnScript {
		w.append(s.kind, s.producer, 1)
	}
	// Producer 1 opened at 14; open producer 6 at 15 too.
	w.append(txnData, 6, 1)
	ctx := context.Background()
	steps := []struct {
		start       int64
		wantAborted []AbortedTransaction
		wantStable  int64
	}{
		{6, txnScriptAborted, 14},      // the first's marker is at 6: kept
		{7, txnScriptAborted[1:], 14},  // dropped
		{12, txnScriptAborted[2:], 14}, // the third's marker is at 12
		{15, nil, 15},                  // past the open transaction of producer 1
		{16, nil, 16},                  // past producer 6's: the high watermark
	}
	for _, s := range steps {
		if _, err := p.DeleteRecords(ctx, s.start); err != nil {
			t.Fatal(err)
		}
		check := func(what string, p *Partition) {
			t.Helper()
			got, err := p.AbortedTransactions(0, math.MaxInt64)
			off := p.Offsets()
			if err != nil || !slices.Equal(got, s.wantAborted) || off.LastStable != s.wantStable {
				t.Fatalf("log start %d, %s: aborted %v, last stable %d, %v; want %v, %d", s.start, what, got, off.LastStable, err, s.wantAborted, s.wantStable)
			}
		}
		check("", p)
		if s.start == 12 {
			// After a rebuild, which prunes below each log start.
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
				t.Fatal(err)
			}
			e = openTest(t, opts)
			p, _ = e.Partition("t", 0)
			// The rebuild derives the transactions from the log start on:
			// producer 5's opened at 10, below it, and only its marker is
			// left, which a read_committed consumer needs no entry for.
			s.wantAborted = nil
			check("after a rebuild", p)
		}
	}
	// Retention does the same.
	w = newTxnWriter(t, p, true)
	w.seqs[7] = 0
	w.append(txnData, 7, 1)   // 16
	w.append(txnAbort, 7, 0)  // 17
	w.append(txnPlain, -1, 1) // 18
	if got, _ := p.AbortedTransactions(0, math.MaxInt64); len(got) != 1 {
		t.Fatalf("aborted %v", got)
	}
	config := p.Config()
	config.RetentionMs, config.RetentionBytes = -1, 1
	if err := e.retain(p, config, nowMs()); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.AbortedTransactions(0, math.MaxInt64); len(got) != 0 || p.Offsets().LogStart != 18 {
		t.Fatalf("after retention: aborted %v, offsets %+v", got, p.Offsets())
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// Compaction stops at the last stable offset, so it never touches an open
// transaction; it removes aborted records, which never count as the latest
// of their key; it keeps markers, whose keys never count either.
func TestCompactionAndTransactions(t *testing.T) {
	e := openTest(t, testOptions(t.TempDir()))
	defer e.Close()
	config, err := e.TopicDefaults().WithOverrides(map[string]string{ConfigCleanupPolicy: "compact", ConfigMinCleanableDirtyRatio: "0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateTopic("t", 1, config); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	commitKey := string([]byte{0, 0, 0, controlCommit})
	kv := func(k, v string) rec { return rec{key: []byte(k), value: []byte(v), ts: nowMs()} }
	appends := [][]byte{
		makeBatch(t, 0, kv("a", "committed"), kv(commitKey, "a key like a commit marker's")), // 0, 1
		txnBatch(t, 1, 0, kv("a", "aborted"), kv("b", "aborted")),                            // 2, 3
		markerBatch(t, 1, false),                            // 4
		markerBatch(t, 3, true),                             // 5: a commit marker of nobody
		txnBatch(t, 2, 0, kv("c", "open")),                  // 6: producer 2 stays open
		makeBatch(t, 0, kv("c", "newer than the open one")), // 7
		makeBatch(t, 0, kv("d", "last")),                    // 8
	}
	for _, b := range appends {
		if _, err := p.AppendDurable(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	compact := func() {
		t.Helper()
		e.cleanMu.Lock()
		defer e.cleanMu.Unlock()
		if err := e.compact(t.Context(), p, config, nowMs()); err != nil {
			t.Fatal(err)
		}
	}
	values := func() map[int64]string {
		out := map[int64]string{}
		for _, r := range readAll(t, p, 0) {
			out[r.offset] = string(r.value)
		}
		return out
	}
	compact()
	got := values()
	for offset, want := range map[int64]string{0: "committed", 1: "a key like a commit marker's", 6: "open", 7: "newer than the open one"} {
		if got[offset] != want {
			t.Fatalf("after compaction below the open transaction: offset %d holds %q, want %q (all: %v)", offset, got[offset], want, got)
		}
	}
	for _, offset := range []int64{2, 3} {
		if _, ok := got[offset]; ok {
			t.Fatalf("aborted record at %d kept: %v", offset, got)
		}
	}
	r, err := p.Read(4, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := recordbatch.ReadHeader(r.Records); h.BaseOffset != 4 || !h.Control() {
		t.Fatalf("the abort marker is gone: read at 4 gives %+v", h)
	}
	if aborted, _ := p.AbortedTransactions(0, math.MaxInt64); !slices.Equal(aborted, []AbortedTransaction{{1, 2, 4}}) {
		t.Fatalf("aborted %v", aborted)
	}

	// Once producer 2 commits, its record at 6 is older than the one at 7.
	if _, err := p.AppendDurable(t.Context(), markerBatch(t, 2, true)); err != nil { // 9
		t.Fatal(err)
	}
	if _, err := p.AppendDurable(t.Context(), makeBatch(t, 0, kv("e", "last"))); err != nil { // 10
		t.Fatal(err)
	}
	compact()
	got = values()
	if _, ok := got[6]; ok || got[7] != "newer than the open one" || got[0] != "committed" || got[1] == "" {
		t.Fatalf("after the commit: %v", got)
	}
}

// Deleting a topic deletes its partitions' transactions.
func TestDeleteTopicDropsTransactions(t *testing.T) {
	e := openTest(t, testOptions(t.TempDir()))
	defer e.Close()
	if _, err := e.CreateTopic("t", 1, e.TopicDefaults()); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	w := newTxnWriter(t, p, false)
	for _, s := range txnScript {
		w.append(s.kind, s.producer, 1)
	}
	if n := txnKeys(t, e, p.id); n != 1+3+1 { // one open, three aborted, "w"
		t.Fatalf("%d transaction keys before the deletion", n)
	}
	if err := e.DeleteTopic("t"); err != nil {
		t.Fatal(err)
	}
	if n := txnKeys(t, e, p.id); n != 0 {
		t.Fatalf("%d transaction keys after the deletion", n)
	}
}

// An index rebuild after the cleaner relocated transactional batches and
// markers, and removed the segments of their data entries: only replace
// entries, later in the log than batches of higher offsets, are left of
// them, and the partition's transactions are derived in offset order.
func TestTransactionsRebuildAfterRelocation(t *testing.T) {
	const segmentSize = 16 << 10
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.SegmentSize = segmentSize
	e := openTest(t, opts)
	config := DefaultTopicConfig()
	config.RetentionMs = -1 // the batches' timestamps are in 1970
	if _, err := e.CreateTopic("t", 2, config); err != nil {
		t.Fatal(err)
	}
	live, _ := e.Partition("t", 0)
	dead, _ := e.Partition("t", 1)
	rng := rand.New(rand.NewPCG(5, 6))
	w := newTxnWriter(t, live, true)
	for i := range 160 {
		if i%4 == 0 {
			randomTxns(w, rng, 3, 1)
			continue
		}
		if _, err := dead.AppendDurable(t.Context(), fillerBatch(t, rng, 1, 900, 1000, nowMs())); err != nil {
			t.Fatal(err)
		}
	}
	old := e.log.Segments()
	if _, err := dead.DeleteRecords(t.Context(), -1); err != nil {
		t.Fatal(err)
	}
	runCleaner(t, e, 1)
	for _, s := range e.log.Segments() {
		if s.Base == old[0].Base {
			t.Fatalf("the first segment was not relocated: %+v", e.log.Segments())
		}
	}
	// Then more, which the rebuild replays before the copies in the log
	// but after them in offset order.
	randomTxns(w, rng, 3, 20)
	checkTxns(t, "before the rebuild", live, w.model)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, opts)
	defer e.Close()
	live, _ = e.Partition("t", 0)
	checkTxns(t, "after the rebuild", live, w.model)
}

// Reads concurrent with appends: a read_committed read never returns a
// batch at or past the last stable offset it reports, and for every batch
// it returns of a transaction that was aborted, it returns that aborted
// transaction (one aborted later started past what the read returned).
func TestReadCommittedConcurrent(t *testing.T) {
	e := openTest(t, testOptions(t.TempDir()))
	defer e.Close()
	if _, err := e.CreateTopic("t", 1, e.TopicDefaults()); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	w := newTxnWriter(t, p, false) // not waiting: markers wait for syncs
	type batchRead struct {
		producer, base int64
		aborted        []AbortedTransaction
	}
	const readers = 3
	reads := make([][]batchRead, readers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 9))
			// read reads at offset and returns the offset after what it
			// read.
			read := func(offset int64) int64 {
				r, err := p.ReadCommitted(offset, 1+rng.IntN(2000))
				if err != nil {
					t.Errorf("read_committed at %d: %v", offset, err)
					return math.MaxInt64
				}
				defer r.Release()
				batches, _ := recordbatch.Split(r.Records)
				for _, b := range batches {
					h, _ := recordbatch.ReadHeader(b)
					if h.LastOffset() >= r.LastStable || r.LastStable > r.HighWatermark {
						t.Errorf("read at %d returned [%d, %d] with last stable %d, high watermark %d",
							offset, h.BaseOffset, h.LastOffset(), r.LastStable, r.HighWatermark)
					}
					if h.Transactional() && !h.Control() {
						reads[i] = append(reads[i], batchRead{h.ProducerID, h.BaseOffset, r.Aborted})
					}
					offset = h.LastOffset() + 1
				}
				if len(batches) == 0 {
					return math.MaxInt64
				}
				return offset
			}
			for {
				select {
				case <-stop:
					// And once more through all of it, at rest.
					for offset := int64(0); offset < math.MaxInt64; {
						offset = read(offset)
					}
					return
				default:
				}
				off := p.Offsets()
				read(off.LogStart + rng.Int64N(off.HighWatermark-off.LogStart+1))
			}
		})
	}
	rng := rand.New(rand.NewPCG(7, 8))
	randomTxns(w, rng, 4, 600)
	for producer := range w.model.open {
		w.append(txnCommit, producer, 0)
	}
	if err := e.WaitDurable(t.Context(), AppendResult{end: e.log.Written()}); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	checked := 0
	for _, rs := range reads {
		for _, r := range rs {
			for _, a := range w.model.aborted {
				if a.ProducerID == r.producer && a.FirstOffset <= r.base && r.base <= a.LastOffset {
					if !slices.Contains(r.aborted, a) {
						t.Fatalf("a read returned the batch at %d of aborted transaction %v without it: %v", r.base, a, r.aborted)
					}
					checked++
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no read returned a batch of an aborted transaction")
	}
}
