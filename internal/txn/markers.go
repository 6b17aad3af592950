package txn

import (
	"maps"
	"slices"
	"time"
)

// Markers are the transaction markers that complete one transaction: a
// control batch (commit or abort) of the producer, to write in each of
// Partitions. For the partition of __consumer_offsets it also commits or
// drops the producer's pending TxnOffsetCommits.
//
// The hand-off survives crashes: a transaction stays PrepareCommit or
// PrepareAbort until every partition's marker was reported durable
// (MarkersWritten), and its markers are handed out again by PendingMarkers
// and, after a restart, by Recover. A writer reports every Markers handed
// to it exactly once, with the partitions it wrote (none if it failed):
// until it does, PendingMarkers does not hand the transaction out again.
// A partition receives a marker twice only when a write failed after
// its append; the second one closes no transaction and must be accepted.
type Markers struct {
	TransactionalID string
	// ProducerID and ProducerEpoch are the producer's: the markers carry
	// them. For a transactions version 2 transaction the epoch is the
	// bumped one, above that of its data batches.
	ProducerID    int64
	ProducerEpoch int16
	// Commit is true for commit markers, false for abort markers.
	Commit bool
	// CoordinatorEpoch is Config.CoordinatorEpoch.
	CoordinatorEpoch int32
	// TransactionVersion is the transaction's version as
	// WriteTxnMarkers version 2 carries it: 2 for KIP-890's version 2,
	// else 0.
	TransactionVersion int8
	// Partitions are the partitions whose markers are not yet written,
	// sorted. It may be empty: the transaction then completes as soon as
	// MarkersWritten is called.
	Partitions []TopicPartition

	// completion identifies the completion the markers belong to: a
	// transactions version 1 producer keeps its epoch from one
	// transaction to the next, so a late report of one transaction's
	// markers must not count for the next.
	completion uint64
}

// handOut returns the markers e's transaction still needs, for a writer
// to write and report.
// REQUIRES: c.mu is held; e.meta.preparing().
func (c *Coordinator) handOut(e *entry) Markers {
	e.writing = true
	partitions := slices.SortedFunc(maps.Keys(e.unmarked), TopicPartition.compare)
	if partitions == nil {
		partitions = []TopicPartition{}
	}
	return Markers{
		TransactionalID:    e.id,
		ProducerID:         e.meta.producerID,
		ProducerEpoch:      e.meta.epoch,
		Commit:             e.meta.state == StatePrepareCommit,
		CoordinatorEpoch:   c.cfg.CoordinatorEpoch,
		TransactionVersion: int8(e.meta.version),
		Partitions:         partitions,
		completion:         e.completion,
	}
}

// MarkersWritten tells the coordinator that the markers of m are durable
// in m.Partitions (all of them, some or none: the others are handed out
// again by PendingMarkers). m is a copy of Markers the coordinator handed
// out, its Partitions possibly fewer; each hand-out is reported once. Once every partition of the transaction is
// reported, the returned Write completes it (CompleteCommit or
// CompleteAbort, and for a version 2 transaction whose epoch was
// exhausted, the next producer id at epoch 0); otherwise it writes
// nothing. Markers of a completion that is over (reported before) or of
// another run of the coordinator are ignored.
//
// A partition whose marker cannot be written because it no longer exists
// should be reported too, as Kafka drops it from the transaction.
func (c *Coordinator) MarkersWritten(now time.Time, m Markers) *Write {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &Write{}
	e := c.txns[m.TransactionalID]
	if e == nil || !e.meta.preparing() || e.completion != m.completion {
		return c.seal(w)
	}
	e.writing = false
	for _, tp := range m.Partitions {
		delete(e.unmarked, tp)
	}
	if len(e.unmarked) == 0 && e.pending == nil {
		c.stageCompletion(w, e, millis(now))
	}
	return c.seal(w)
}

// stageCompletion stages the completion of a transaction whose markers are
// all written, as Kafka's prepareComplete.
// REQUIRES: c.mu is held; e.meta.preparing(); e.pending == nil.
func (c *Coordinator) stageCompletion(w *Write, e *entry, nowMs int64) {
	m := e.meta.next(nowMs)
	m.state = StateCompleteAbort
	if e.meta.state == StatePrepareCommit {
		m.state = StateCompleteCommit
	}
	if m.version >= transactionVersion2 && m.nextProducerID != noProducerID {
		m.producerID, m.epoch = m.nextProducerID, 0
	}
	m.nextProducerID, m.partitions = noProducerID, nil
	c.stage(w, e, m, e.lastEpoch)
}

// PendingMarkers hands out the markers of every transaction waiting for
// them that no writer holds (and none being written to the state topic),
// sorted by transactional id: what a marker writer writes again after a
// failure. They are reported with MarkersWritten like the others.
func (c *Coordinator) PendingMarkers() []Markers {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Markers
	for _, id := range slices.Sorted(maps.Keys(c.active)) {
		if e := c.active[id]; e.meta.preparing() && e.pending == nil && !e.writing {
			out = append(out, c.handOut(e))
		}
	}
	return out
}

// Recover is called once, after the last Replay and before any request:
// it returns the markers of the transactions a previous run left
// PrepareCommit or PrepareAbort (every partition of each), for the caller
// to write and report as after EndTxn. Ongoing transactions need nothing:
// Tick aborts them when they time out.
func (c *Coordinator) Recover(now time.Time) []Markers {
	c.mu.Lock()
	c.nextExpiryCheck = now.Add(c.cfg.ExpirationCheckInterval)
	c.mu.Unlock()
	return c.PendingMarkers()
}
