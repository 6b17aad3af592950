package storage

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
)

// Batches of the transaction tests, by what they do.
const (
	txnData   = 'd' // a transactional batch
	txnCommit = 'c' // a commit marker
	txnAbort  = 'a' // an abort marker
	txnPlain  = 'p' // a batch of no producer
)

// txnBatch builds a transactional batch of a producer with the given
// records (keys and values), starting at sequence seq.
func txnBatch(t testing.TB, producerID int64, seq int32, records ...rec) []byte {
	t.Helper()
	var rs []kmsg.Record
	for i, r := range records {
		kr := kmsg.NewRecord()
		kr.Key, kr.Value, kr.OffsetDelta = r.key, r.value, int32(i)
		rs = append(rs, kr)
	}
	h := recordbatch.Header{
		PartitionLeaderEpoch: -1, Magic: 2, Attributes: 0x10, LastOffsetDelta: int32(len(records) - 1),
		BaseTimestamp: 1000, MaxTimestamp: 1000, ProducerID: producerID, ProducerEpoch: 0, BaseSequence: seq,
	}
	b, err := recordbatch.Build(h, rs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// markerBatch builds a commit or abort marker of a producer.
func markerBatch(t testing.TB, producerID int64, commit bool) []byte {
	t.Helper()
	b, err := NewMarkerBatch(producerID, 0, commit, 7, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// txnWriter appends the batches of the transaction tests to a partition,
// keeping each producer's sequence, and tells a txnModel what it appended.
type txnWriter struct {
	t       testing.TB
	p       *Partition
	durable bool // AppendDurable rather than Append
	seqs    map[int64]int32
	model   *txnModel
}

func newTxnWriter(t testing.TB, p *Partition, durable bool) *txnWriter {
	return &txnWriter{t: t, p: p, durable: durable, seqs: map[int64]int32{}, model: newTxnModel()}
}

// append appends a batch of kind for producer (n records for data and
// plain batches) and returns its base offset.
func (w *txnWriter) append(kind byte, producer int64, n int) int64 {
	w.t.Helper()
	var batch []byte
	switch kind {
	case txnData:
		var rs []rec
		for i := range n {
			rs = append(rs, rec{key: []byte(fmt.Sprintf("k%d", i)), value: []byte(fmt.Sprintf("p%d-s%d", producer, int(w.seqs[producer])+i))})
		}
		batch = txnBatch(w.t, producer, w.seqs[producer], rs...)
		w.seqs[producer] += int32(n)
	case txnCommit, txnAbort:
		batch = markerBatch(w.t, producer, kind == txnCommit)
	case txnPlain:
		batch = valueBatch(w.t, "plain", n, 1000)
		producer = -1
	}
	var res AppendResult
	var err error
	if w.durable {
		res, err = w.p.AppendDurable(w.t.Context(), batch)
	} else {
		res, err = w.p.Append(batch)
	}
	if err != nil {
		w.t.Fatalf("append %c of producer %d: %v", kind, producer, err)
	}
	w.model.apply(kind, producer, res.BaseOffset, res.LastOffset)
	return res.BaseOffset
}

// txnModel is what a partition's transactions must be after a sequence of
// batches, computed the simplest way.
type txnModel struct {
	open    map[int64]int64 // producer -> first offset
	aborted []AbortedTransaction
	next    int64 // offset after the last batch
}

func newTxnModel() *txnModel { return &txnModel{open: map[int64]int64{}} }

func (m *txnModel) apply(kind byte, producer, base, last int64) {
	m.next = last + 1
	switch kind {
	case txnData:
		if _, ok := m.open[producer]; !ok {
			m.open[producer] = base
		}
	case txnCommit, txnAbort:
		first, ok := m.open[producer]
		if !ok {
			return
		}
		delete(m.open, producer)
		if kind == txnAbort {
			m.aborted = append(m.aborted, AbortedTransaction{ProducerID: producer, FirstOffset: first, LastOffset: base})
		}
	}
}

// lastStable is the LSO of a partition with every batch synced.
func (m *txnModel) lastStable(logStart, highWatermark int64) int64 {
	if len(m.open) == 0 {
		return highWatermark
	}
	oldest := int64(math.MaxInt64)
	for _, first := range m.open {
		oldest = min(oldest, first)
	}
	return min(highWatermark, max(oldest, logStart))
}

// abortedIn returns the aborted transactions that overlap [from, to).
func (m *txnModel) abortedIn(from, to int64) []AbortedTransaction {
	if to <= from {
		return nil
	}
	var out []AbortedTransaction
	for _, a := range m.aborted {
		if a.LastOffset >= from && a.FirstOffset < to {
			out = append(out, a)
		}
	}
	return out
}

// checkTxns waits until everything written is durable, then checks a
// partition's last stable offset and whole aborted index against the
// model.
func checkTxns(t testing.TB, what string, p *Partition, m *txnModel) {
	t.Helper()
	if err := p.e.WaitDurable(t.Context(), AppendResult{end: p.e.log.Written()}); err != nil {
		t.Fatal(err)
	}
	off := p.Offsets()
	if want := m.lastStable(off.LogStart, off.HighWatermark); off.LastStable != want {
		t.Fatalf("%s: last stable offset %d, want %d (offsets %+v, open %v)", what, off.LastStable, want, off, m.open)
	}
	got, err := p.AbortedTransactions(off.LogStart, math.MaxInt64)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if want := m.abortedIn(off.LogStart, math.MaxInt64); !slices.Equal(got, want) {
		t.Fatalf("%s: aborted transactions\n%v\nwant\n%v", what, got, want)
	}
}

// txnKeys counts a partition's transaction keys in the index.
func txnKeys(t testing.TB, e *Engine, pid uint64) int {
	t.Helper()
	n := 0
	for _, prefix := range []byte{prefixOpenTxn, prefixAbortedTxn, prefixTxnApplied} {
		lo, hi := partitionRange(prefix, pid)
		it, err := e.db.NewIter(nil)
		if err != nil {
			t.Fatal(err)
		}
		for ok := it.SeekGE(lo); ok && string(it.Key()) < string(hi); ok = it.Next() {
			n++
		}
		it.Close()
	}
	return n
}
