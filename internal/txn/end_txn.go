package txn

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// EndTxn answers EndTxn, versions 0-5: the ongoing transaction is to be
// committed or aborted. The decision (PrepareCommit or PrepareAbort) is
// written, the client answered, and the markers handed out by Finish; the
// transaction completes when they are written (MarkersWritten). A
// transaction completing answers CONCURRENT_TRANSACTIONS.
//
// Versions 0-4 (transactions version 1): the request must carry the
// current producer id (INVALID_PRODUCER_ID_MAPPING) and epoch
// (PRODUCER_FENCED; INVALID_PRODUCER_EPOCH before version 2). A retry
// after completion succeeds for the same outcome and is INVALID_TXN_STATE
// for the other; so is an EndTxn without a transaction.
//
// Version 5 (KIP-890 part 2, transactions version 2): every commit or
// abort bumps the epoch, and the answer carries the producer id and epoch
// of the next transaction (a new producer id at epoch 0 when the epoch is
// exhausted). A request at the epoch before the bump is a retry: it
// succeeds when the transaction completed with the outcome it asks for,
// and is INVALID_TXN_STATE otherwise. An abort without a transaction is
// allowed (and bumps the epoch); a commit without one is
// INVALID_TXN_STATE. So a late or duplicated EndTxn of a transaction can
// never end the next one: its epoch is stale there (PRODUCER_FENCED).
func (c *Coordinator) EndTxn(now time.Time, req *kmsg.EndTxnRequest) *Write {
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	w := &Write{Response: resp}
	fail := func(code int16) {
		resp.ErrorCode = fencedCode(code, req.Version >= 2)
		resp.ProducerID, resp.ProducerEpoch = noProducerID, noEpoch
	}
	var err error
	if req.Version >= 5 {
		err = c.endV2(now, w, req)
	} else {
		err = c.endV1(now, w, req)
	}
	if err != nil {
		fail(code(err))
	}
	w.onFail(fail)
	return c.seal(w)
}

// endV1 ends a transactions version 1 transaction, as Kafka's
// endTransactionWithTV1: no epoch bump.
// REQUIRES: c.mu is held.
func (c *Coordinator) endV1(now time.Time, w *Write, req *kmsg.EndTxnRequest) error {
	if err := validID(req.TransactionalID); err != nil {
		return err
	}
	e := c.txns[req.TransactionalID]
	switch {
	case e == nil || e.meta.producerID != req.ProducerID:
		return kerr.InvalidProducerIDMapping
	case e.meta.epoch != req.ProducerEpoch:
		return c.fencedError()
	case e.busy():
		return kerr.ConcurrentTransactions
	}
	switch e.meta.state {
	case StateOngoing:
		m := e.meta.next(millis(now))
		m.state = prepareState(req.Commit)
		m.nextProducerID, m.version = noProducerID, 0
		c.stage(w, e, m, e.lastEpoch)
		return nil
	case StateCompleteCommit:
		if req.Commit {
			return nil
		}
	case StateCompleteAbort:
		if !req.Commit {
			return nil
		}
	}
	return kerr.InvalidTxnState
}

// endV2 ends a transactions version 2 transaction, as Kafka's
// endTransaction: every end bumps the epoch; a retry is recognized by its
// epoch (one before the current one, or the last epoch of the previous
// producer id after a rotation).
// REQUIRES: c.mu is held.
func (c *Coordinator) endV2(now time.Time, w *Write, req *kmsg.EndTxnRequest) error {
	resp := w.Response.(*kmsg.EndTxnResponse)
	if err := validID(req.TransactionalID); err != nil {
		return err
	}
	e := c.txns[req.TransactionalID]
	if e == nil {
		return kerr.InvalidProducerIDMapping
	}
	m := e.meta
	retryOnOverflow := m.prevProducerID == req.ProducerID && req.ProducerEpoch == maxEpoch-1 && m.epoch == 0
	retryOnBump := int32(m.epoch) == int32(req.ProducerEpoch)+1
	retry := retryOnBump || retryOnOverflow
	// The current epoch is valid; a retry's only after a completion (in
	// Empty, the epoch before is that of the producer InitProducerId
	// fenced).
	validEpoch := req.ProducerEpoch == m.epoch ||
		retry && (m.state == StateCompleteCommit || m.state == StateCompleteAbort)
	switch {
	case e.busy():
		// Before the producer id, as AddPartitionsToTxn (KAFKA-18660): a
		// client may already hold the next producer id.
		return kerr.ConcurrentTransactions
	case m.producerID != req.ProducerID && !retryOnOverflow:
		return kerr.InvalidProducerIDMapping
	case !validEpoch:
		return c.fencedError()
	}
	switch {
	case m.state == StateOngoing:
	case retry && (m.state == StateCompleteCommit && req.Commit || m.state == StateCompleteAbort && !req.Commit):
		resp.ProducerID, resp.ProducerEpoch = m.producerID, m.epoch
		return nil
	case !retry && !req.Commit: // Empty, CompleteCommit or CompleteAbort: an abort without partitions
	default:
		return kerr.InvalidTxnState
	}
	after, err := c.prepareV2(w, e, req.Commit, millis(now))
	if err != nil {
		return err
	}
	c.stage(w, e, after, e.meta.epoch)
	resp.ProducerID, resp.ProducerEpoch = after.producerID, after.epoch
	if after.nextProducerID != noProducerID {
		resp.ProducerID, resp.ProducerEpoch = after.nextProducerID, 0
	}
	return nil
}

// prepareV2 returns the PrepareCommit or PrepareAbort of a transactions
// version 2 transaction: the epoch bumped (the markers carry it, so that
// the producer's older epoch is fenced in every partition), and a next
// producer id when the epoch is exhausted. An abort without a
// transaction starts (and ends) one without partitions.
// REQUIRES: c.mu is held.
func (c *Coordinator) prepareV2(w *Write, e *entry, commit bool, nowMs int64) (metadata, error) {
	m := e.meta.next(nowMs)
	if epochExhausted(e.meta.epoch) {
		next, err := c.ids.allocate(w)
		if err != nil {
			return metadata{}, err
		}
		m.nextProducerID = next
	}
	if m.epoch < maxEpoch {
		m.epoch++
	}
	if e.meta.state != StateOngoing {
		m.startMs = nowMs
	}
	m.state, m.version = prepareState(commit), transactionVersion2
	return m, nil
}

// prepareState returns PrepareCommit or PrepareAbort.
func prepareState(commit bool) State {
	if commit {
		return StatePrepareCommit
	}
	return StatePrepareAbort
}
