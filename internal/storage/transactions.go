package storage

// Transactions: per partition, the producers' open transactions, the last
// stable offset they hold back, and the index of aborted transactions that
// read_committed fetches return, as Kafka's ProducerStateManager and its
// .txnindex files keep them.
//
// A transactional batch that is not a control batch opens its producer's
// transaction at its base offset if the producer has none open. A
// transaction marker (markers.go) closes it; an abort marker also adds it
// to the aborted index. A marker for a producer with no open transaction
// is appended and changes nothing, as in Kafka (the coordinator sends a
// marker again when it cannot tell whether the first one was written). A
// batch of a producer with an open transaction that is neither
// transactional nor a marker is refused (ErrInvalidTxnState), as Kafka
// does.
//
// The last stable offset (LSO) is the first offset of the oldest
// transaction that is open, or whose marker the high watermark has not
// passed yet (under the durable policy: a marker not yet synced, Kafka's
// "unreplicated" transactions), raised to the log start; with none, the
// high watermark. It is never above the high watermark. A read_committed
// consumer reads below it, so it never sees a transaction's records before
// a marker that will survive a crash.
//
// The state is kept beside the index, in Pebble (format version 1). These
// encodings are part of the on-disk format; docs/storage.md says the same.
// Integers are big-endian:
//
//	"o" + uint64 partition id   an open transaction of the producer:
//	    + int64 producer id       int64 first offset
//	"a" + uint64 partition id   an aborted transaction: int64 producer id,
//	    + int64 last offset       int64 first offset, int64 stable offset:
//	      (the abort marker's)    the first offset of the oldest transaction
//	                              still open after the marker, or the
//	                              marker's offset + 1 if none. Every
//	                              transaction aborted later starts at or
//	                              after it, so a lookup stops at the first
//	                              entry whose stable offset reaches its
//	                              upper bound (Kafka's lastStableOffset of
//	                              an AbortedTxn).
//	"w" + uint64 partition id   int64 base offset of the last transactional
//	                              batch or marker whose effect the "o" and
//	                              "a" keys hold
//
// An append writes its changes and "w" in the same Pebble batch as its
// index entry (not synced: the checkpoint syncs Pebble). Recovery replays
// the data entries after the checkpoint in log order, which for one
// partition is offset order, skipping those at or below "w": their effect
// is already there. Replace entries are never replayed here: they copy
// batches whose data entry was applied before (relocation copies only
// batches below the checkpoint; compaction rewrites batches whose data
// entry comes earlier in the log).
//
// An index rebuild replays the whole log, but not the transactions: there
// a replace entry may be the only copy left of a batch (the cleaner
// removed the segment of its data entry), and in log order it comes after
// batches of later offsets; and whether a batch below the log start is
// still in the log depends on when the cleaner ran. So after the replay,
// each partition with a transactional batch or marker has its transactions
// derived from its batches from the log start, in offset order
// (rescanTransactions). A transaction that opened below the log start then
// opens at its first batch above it, and one with no batch above it is
// forgotten: a read_committed consumer, which cannot read below the log
// start, sees the same records either way.
//
// A machine crash can leave Pebble ahead of the log: its write-ahead log
// reached the disk and the log's tail did not. On open, a partition whose
// "w" is at or past its log end has the state of the lost batches undone:
// open transactions that start past the end are dropped, aborted ones
// whose marker is past the end are dropped and reopened if they started
// below it, and "w" comes back below the end. A lost commit marker cannot
// be undone (nothing records what it closed), so its transaction stays
// closed; the coordinator decided the commit durably before it wrote any
// marker, and writes the marker again, which then changes nothing.
//
// The aborted index drops entries whose marker falls below the log start
// (retention, DeleteRecords), in the same batch that moves the start.

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/weir-io/weir/internal/recordbatch"
)

const (
	prefixOpenTxn    = 'o'
	prefixAbortedTxn = 'a'
	prefixTxnApplied = 'w'
)

// ErrInvalidTxnState: INVALID_TXN_STATE (48). A producer with an open
// transaction in the partition wrote a batch that is not transactional.
var ErrInvalidTxnState = errors.New("storage: non-transactional batch from a producer with an open transaction")

// AbortedTransaction is a transaction whose records a read_committed
// consumer skips: those of ProducerID from FirstOffset up to its abort
// marker at LastOffset (kmsg.FetchResponseTopicPartitionAbortedTransaction
// carries ProducerID and FirstOffset).
type AbortedTransaction struct {
	ProducerID  int64
	FirstOffset int64
	LastOffset  int64
}

// txnState is a partition's transactions in memory.
type txnState struct {
	// open maps a producer id to the first offset of its open
	// transaction; nil until the first.
	open map[int64]int64
	// firstOpen is the smallest value of open, when open is not empty.
	firstOpen int64
	// closing are the transactions whose marker the high watermark has not
	// passed yet, in marker order. They hold the LSO back until it does.
	closing []closingTxn
}

// closingTxn is a transaction whose marker is at offset marker.
type closingTxn struct {
	first, marker int64
}

// txnChange is what one batch does to its partition's transactions.
type txnChange struct {
	producerID int64
	base       int64 // the batch's base offset
	opens      bool  // the batch opens a transaction at base
	closes     bool  // the batch is a marker closing the transaction at first
	abort      bool  // the marker aborts it
	first      int64
	stable     int64 // for an abort: the stable offset of its "a" entry
}

// transactional reports whether a batch may change its partition's
// transactions: a transactional batch or a marker, of a producer.
func transactional(h recordbatch.Header) bool {
	return h.ProducerID >= 0 && (h.Transactional() || h.Control())
}

// changeOf returns what a batch at base does to the transactions t, m
// being its marker if it is a control batch.
// REQUIRES: transactional(h).
func (t *txnState) changeOf(h recordbatch.Header, m txnMarker, base int64) txnChange {
	c := txnChange{producerID: h.ProducerID, base: base}
	first, open := t.open[h.ProducerID]
	switch {
	case h.Control() && open:
		c.closes, c.first, c.abort = true, first, !m.commit
		if c.abort {
			c.stable = base + 1
			if other, ok := t.oldestExcept(h.ProducerID); ok {
				c.stable = min(c.stable, other)
			}
		}
	case !h.Control() && !open:
		c.opens, c.first = true, base
	}
	return c
}

// oldestExcept returns the first offset of the oldest open transaction of
// a producer other than producerID.
func (t *txnState) oldestExcept(producerID int64) (int64, bool) {
	oldest, found := int64(math.MaxInt64), false
	for id, first := range t.open {
		if id != producerID && first < oldest {
			oldest, found = first, true
		}
	}
	return oldest, found
}

// apply applies a change to the open transactions.
func (t *txnState) apply(c txnChange) {
	switch {
	case c.opens:
		if t.open == nil {
			t.open = make(map[int64]int64)
		}
		if len(t.open) == 0 || c.first < t.firstOpen {
			t.firstOpen = c.first
		}
		t.open[c.producerID] = c.first
	case c.closes:
		delete(t.open, c.producerID)
		if c.first == t.firstOpen {
			t.firstOpen, _ = t.oldestExcept(-1)
		}
	}
}

// lastStableLocked returns the partition's last stable offset, forgetting
// the closing transactions whose marker the high watermark has passed.
// REQUIRES: p.mu is held; the high watermark is up to date.
func (p *Partition) lastStableLocked() int64 {
	p.settleClosingLocked()
	t := &p.mu.txns
	hw := p.mu.highWatermark
	oldest, found := int64(math.MaxInt64), len(t.open) > 0
	if found {
		oldest = t.firstOpen
	}
	for _, c := range t.closing {
		oldest, found = min(oldest, c.first), true
	}
	if !found {
		return hw
	}
	return min(hw, max(oldest, p.mu.logStart))
}

// settleClosingLocked forgets the closing transactions whose marker the
// high watermark has passed.
// REQUIRES: p.mu is held.
func (p *Partition) settleClosingLocked() {
	t := &p.mu.txns
	n := 0
	for n < len(t.closing) && t.closing[n].marker < p.mu.highWatermark {
		n++
	}
	if n == len(t.closing) {
		t.closing = nil
	} else if n > 0 {
		t.closing = append(t.closing[:0], t.closing[n:]...)
	}
}

// txnChangeLocked checks a batch about to be appended at base against the
// partition's transactions and returns what it changes (nil: nothing to
// write).
// REQUIRES: p.mu is held.
func (p *Partition) txnChangeLocked(h recordbatch.Header, m txnMarker, base int64) (*txnChange, error) {
	if h.ProducerID < 0 {
		return nil, nil
	}
	if !transactional(h) {
		if first, open := p.mu.txns.open[h.ProducerID]; open {
			return nil, fmt.Errorf("%w: producer %d has a transaction open at offset %d in %s/%d",
				ErrInvalidTxnState, h.ProducerID, first, p.topic.name, p.index)
		}
		return nil, nil
	}
	c := p.mu.txns.changeOf(h, m, base)
	return &c, nil
}

// txnAppliedLocked applies to memory a change an append wrote to the
// index.
// REQUIRES: p.mu is held; the batch was added (addedLocked).
func (p *Partition) txnAppliedLocked(c txnChange) {
	p.mu.txns.apply(c)
	p.settleClosingLocked()
	if c.closes && c.base >= p.mu.highWatermark {
		p.mu.txns.closing = append(p.mu.txns.closing, closingTxn{first: c.first, marker: c.base})
	}
}

// AbortedTransactions returns the aborted transactions that overlap the
// offsets [from, to): those whose abort marker is at or after from and
// whose first offset is below to, in the order of their markers. A
// read_committed fetch from F that returns batches up to offset U needs
// AbortedTransactions(F, U+1). Entries whose marker fell below the log
// start are gone.
func (p *Partition) AbortedTransactions(from, to int64) ([]AbortedTransaction, error) {
	p.mu.Lock()
	deleted := p.mu.deleted
	p.mu.Unlock()
	if deleted {
		return nil, fmt.Errorf("%w: %s/%d was deleted", ErrUnknownTopicOrPartition, p.topic.name, p.index)
	}
	aborted, err := abortedBetween(p.e.db, p.id, from, to)
	if err != nil {
		return nil, fmt.Errorf("%w: aborted transaction index: %v", ErrStorage, err)
	}
	return aborted, nil
}

// abortedBetween reads the aborted transactions of a partition that
// overlap [from, to).
func abortedBetween(r pebble.Reader, pid uint64, from, to int64) ([]AbortedTransaction, error) {
	if to <= from {
		return nil, nil
	}
	_, hi := partitionRange(prefixAbortedTxn, pid)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: abortedKey(pid, max(from, 0)), UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []AbortedTransaction
	for ok := it.First(); ok; ok = it.Next() {
		a, stable, err := decodeAborted(it.Key(), it.Value())
		if err != nil {
			return nil, err
		}
		if a.FirstOffset < to {
			out = append(out, a)
		}
		if stable >= to {
			break
		}
	}
	return out, it.Error()
}

// abortedSpans tells whether a transactional batch belongs to an aborted
// transaction.
type abortedSpans map[int64][]AbortedTransaction // by producer, in offset order

func newAbortedSpans(aborted []AbortedTransaction) abortedSpans {
	spans := make(abortedSpans)
	for _, a := range aborted {
		spans[a.ProducerID] = append(spans[a.ProducerID], a)
	}
	return spans
}

// contains reports whether the records of producerID at offset belong to
// an aborted transaction. A producer's transactions never overlap, so its
// spans are ordered by both first and last offset.
func (s abortedSpans) contains(producerID, offset int64) bool {
	spans := s[producerID]
	// The first span that ends at or after offset.
	i, _ := slices.BinarySearchFunc(spans, offset, func(a AbortedTransaction, offset int64) int {
		return cmp.Compare(a.LastOffset, offset)
	})
	return i < len(spans) && spans[i].FirstOffset <= offset
}

// writeTxnChange writes a batch's change to the index.
func writeTxnChange(w pebble.Writer, pid uint64, c txnChange) error {
	if err := w.Set(txnAppliedKey(pid), encodeInt64(c.base), nil); err != nil {
		return err
	}
	switch {
	case c.opens:
		return w.Set(openTxnKey(pid, c.producerID), encodeInt64(c.first), nil)
	case c.closes:
		if err := w.Delete(openTxnKey(pid, c.producerID), nil); err != nil {
			return err
		}
		if c.abort {
			a := AbortedTransaction{ProducerID: c.producerID, FirstOffset: c.first, LastOffset: c.base}
			return w.Set(abortedKey(pid, c.base), encodeAborted(a, c.stable), nil)
		}
	}
	return nil
}

// replayTransaction applies a data entry's batch to its partition's
// transactions in the index batch b during recovery. A batch at or below
// the partition's "w" changes nothing: its effect is there. An undecodable
// marker (the append validated it: only damage that kept its checksum)
// changes nothing either; the error wraps errMarker, for the caller to log.
// REQUIRES: transactional(h).
func replayTransaction(b *pebble.Batch, pid uint64, h recordbatch.Header, batch []byte) error {
	applied, err := get(b, txnAppliedKey(pid))
	if err != nil {
		return err
	}
	if applied != nil {
		if w, err := decodeInt64(applied); err == nil && h.BaseOffset <= w {
			return nil
		}
	}
	var m txnMarker
	if h.Control() {
		if m, err = markerOf(batch); err != nil {
			return fmt.Errorf("batch at offset %d: %w", h.BaseOffset, err)
		}
	}
	t, err := loadOpenTxns(b, pid)
	if err != nil {
		return err
	}
	return writeTxnChange(b, pid, t.changeOf(h, m, h.BaseOffset))
}

// loadOpenTxns reads a partition's open transactions from the index.
func loadOpenTxns(r pebble.Reader, pid uint64) (*txnState, error) {
	lo, hi := partitionRange(prefixOpenTxn, pid)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	t := &txnState{}
	for ok := it.First(); ok; ok = it.Next() {
		_, producerID, first, err := decodeOpenTxn(it.Key(), it.Value())
		if err != nil {
			return nil, err
		}
		t.apply(txnChange{producerID: producerID, opens: true, first: first})
	}
	return t, it.Error()
}

// rescanTransactions derives a partition's transactions from its batches
// in offset order, replacing what the index holds (after an index
// rebuild).
// REQUIRES: recovery, before anything else uses the partition.
func (e *Engine) rescanTransactions(p *Partition) error {
	b := e.db.NewBatch()
	defer b.Close()
	for _, prefix := range []byte{prefixOpenTxn, prefixAbortedTxn, prefixTxnApplied} {
		lo, hi := partitionRange(prefix, p.id)
		if err := b.DeleteRange(lo, hi, nil); err != nil {
			return err
		}
	}
	t := &txnState{}
	for from := p.mu.logStart; ; {
		entries, err := p.batchesFrom(from, 256)
		if err != nil || len(entries) == 0 {
			if err != nil {
				return err
			}
			break
		}
		for _, ie := range entries {
			if err := e.rescanBatch(p, b, t, ie); err != nil {
				return err
			}
		}
		from = entries[len(entries)-1].last() + 1
	}
	return b.Commit(pebble.NoSync)
}

// rescanBatch applies one batch to t and to the index batch b.
func (e *Engine) rescanBatch(p *Partition, b *pebble.Batch, t *txnState, ie indexEntry) error {
	batch, err := p.readBatch(ie)
	if err != nil {
		return err
	}
	defer putReadBuffer(batch)
	h, err := recordbatch.ReadHeader(batch)
	if err != nil || !transactional(h) {
		return err
	}
	var m txnMarker
	if h.Control() {
		if m, err = markerOf(batch); err != nil {
			e.logger.Error("skipping a transaction marker that cannot be decoded", "topic", p.topic.name, "partition", p.index, "offset", ie.base, "err", err)
			return nil
		}
	}
	c := t.changeOf(h, m, ie.base)
	t.apply(c)
	return writeTxnChange(b, p.id, c)
}

// loadTransactions reads every partition's open transactions. First it
// derives, in offset order, those of the partitions in rescan (after an
// index rebuild; see rescanTransactions); then it undoes what the index
// holds past a partition's log end (the comment at the top says why and
// how).
// REQUIRES: the partitions' log ends are known (after deriveFromIndex).
func (e *Engine) loadTransactions(rescan map[uint64]bool) error {
	for pid := range rescan {
		if p := e.mu.byID[pid]; p != nil {
			if err := e.rescanTransactions(p); err != nil {
				return fmt.Errorf("partition %d: %w", pid, err)
			}
		}
	}
	if err := e.undoPastLogEnd(); err != nil {
		return err
	}
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixOpenTxn}, UpperBound: []byte{prefixOpenTxn + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		pid, producerID, first, err := decodeOpenTxn(it.Key(), it.Value())
		if err != nil {
			return err
		}
		if p := e.mu.byID[pid]; p != nil {
			p.mu.txns.apply(txnChange{producerID: producerID, opens: true, first: first})
		}
	}
	return it.Error()
}

// undoPastLogEnd undoes the transactions' state of batches past each
// partition's log end.
func (e *Engine) undoPastLogEnd() error {
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixTxnApplied}, UpperBound: []byte{prefixTxnApplied + 1}})
	if err != nil {
		return err
	}
	var ahead []*Partition
	for ok := it.First(); ok; ok = it.Next() {
		if len(it.Key()) != 9 {
			it.Close()
			return fmt.Errorf("malformed transaction key %x", it.Key())
		}
		p := e.mu.byID[binary.BigEndian.Uint64(it.Key()[1:])]
		applied, err := decodeInt64(it.Value())
		if err != nil {
			it.Close()
			return err
		}
		if p != nil && applied >= p.mu.logEnd {
			ahead = append(ahead, p)
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	if len(ahead) == 0 {
		return nil
	}
	b := e.db.NewIndexedBatch()
	defer b.Close()
	for _, p := range ahead {
		e.logger.Warn("the index holds transactions past the log end (a machine crash); undoing them",
			"topic", p.topic.name, "partition", p.index, "log_end", p.mu.logEnd)
		if err := undoPartitionPastEnd(b, p.id, p.mu.logEnd); err != nil {
			return fmt.Errorf("partition %d: %w", p.id, err)
		}
	}
	return b.Commit(pebble.Sync)
}

// undoPartitionPastEnd undoes, in b, the state a partition's batches at or
// past end left.
func undoPartitionPastEnd(b *pebble.Batch, pid uint64, end int64) error {
	t, err := loadOpenTxns(b, pid)
	if err != nil {
		return err
	}
	for producerID, first := range t.open {
		if first >= end {
			if err := b.Delete(openTxnKey(pid, producerID), nil); err != nil {
				return err
			}
		}
	}
	_, hi := partitionRange(prefixAbortedTxn, pid)
	it, err := b.NewIter(&pebble.IterOptions{LowerBound: abortedKey(pid, end), UpperBound: hi})
	if err != nil {
		return err
	}
	var reopen []AbortedTransaction
	for ok := it.First(); ok; ok = it.Next() {
		a, _, err := decodeAborted(it.Key(), it.Value())
		if err != nil {
			it.Close()
			return err
		}
		if a.FirstOffset < end {
			reopen = append(reopen, a)
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	if err := b.DeleteRange(abortedKey(pid, end), hi, nil); err != nil {
		return err
	}
	for _, a := range reopen {
		if err := b.Set(openTxnKey(pid, a.ProducerID), encodeInt64(a.FirstOffset), nil); err != nil {
			return err
		}
	}
	if end == 0 {
		return b.Delete(txnAppliedKey(pid), nil)
	}
	// Below every offset a later batch gets: a replay of the batches
	// below the end (if the checkpoint ending this recovery fails) still
	// skips them.
	return b.Set(txnAppliedKey(pid), encodeInt64(end-1), nil)
}

// deleteAbortedBelow drops the aborted transactions whose marker is below
// start.
func deleteAbortedBelow(b *pebble.Batch, pid uint64, start int64) error {
	lo, _ := partitionRange(prefixAbortedTxn, pid)
	hi := abortedKey(pid, start)
	it, err := b.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	found := it.First()
	if err := it.Close(); err != nil || !found {
		return err
	}
	return b.DeleteRange(lo, hi, nil)
}

func openTxnKey(pid uint64, producerID int64) []byte {
	k := make([]byte, 17)
	k[0] = prefixOpenTxn
	binary.BigEndian.PutUint64(k[1:9], pid)
	binary.BigEndian.PutUint64(k[9:17], uint64(producerID))
	return k
}

func decodeOpenTxn(key, value []byte) (pid uint64, producerID, first int64, err error) {
	if len(key) != 17 || key[0] != prefixOpenTxn || len(value) != 8 {
		return 0, 0, 0, fmt.Errorf("malformed open transaction (key %d bytes, value %d bytes)", len(key), len(value))
	}
	return binary.BigEndian.Uint64(key[1:9]), int64(binary.BigEndian.Uint64(key[9:17])), int64(binary.BigEndian.Uint64(value)), nil
}

func abortedKey(pid uint64, last int64) []byte {
	k := make([]byte, 17)
	k[0] = prefixAbortedTxn
	binary.BigEndian.PutUint64(k[1:9], pid)
	binary.BigEndian.PutUint64(k[9:17], uint64(last))
	return k
}

func encodeAborted(a AbortedTransaction, stable int64) []byte {
	v := make([]byte, 0, 24)
	v = binary.BigEndian.AppendUint64(v, uint64(a.ProducerID))
	v = binary.BigEndian.AppendUint64(v, uint64(a.FirstOffset))
	return binary.BigEndian.AppendUint64(v, uint64(stable))
}

// decodeAborted decodes an aborted transaction and its stable offset.
func decodeAborted(key, value []byte) (AbortedTransaction, int64, error) {
	if len(key) != 17 || key[0] != prefixAbortedTxn || len(value) != 24 {
		return AbortedTransaction{}, 0, fmt.Errorf("malformed aborted transaction (key %d bytes, value %d bytes)", len(key), len(value))
	}
	a := AbortedTransaction{
		ProducerID:  int64(binary.BigEndian.Uint64(value[0:8])),
		FirstOffset: int64(binary.BigEndian.Uint64(value[8:16])),
		LastOffset:  int64(binary.BigEndian.Uint64(key[9:17])),
	}
	return a, int64(binary.BigEndian.Uint64(value[16:24])), nil
}

func txnAppliedKey(pid uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefixTxnApplied
	binary.BigEndian.PutUint64(k[1:], pid)
	return k
}
