package txn

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// producerEpoch is a producer id and epoch a client names.
type producerEpoch struct {
	id    int64
	epoch int16
}

// InitProducerID answers InitProducerId, versions 0-5.
//
// Without a transactional id the answer is a new producer id at epoch 0,
// whatever producer id and epoch the request carries (as Kafka: an
// idempotent producer that needs a new epoch gets a new id).
//
// With one, the id must be valid (INVALID_REQUEST) and the transaction
// timeout within (0, Config.MaxTimeout] (INVALID_TRANSACTION_TIMEOUT). A
// new transactional id gets a new producer id at epoch 0. A known one gets
// its epoch bumped, fencing the producers of older epochs; a new producer
// id at epoch 0 when the epoch is exhausted. An ongoing transaction is
// first aborted, its epoch bumped to fence its producer: the answer is
// CONCURRENT_TRANSACTIONS, and the client retries until the abort's
// markers are written. A transaction completing answers
// CONCURRENT_TRANSACTIONS too.
//
// KIP-360 (version 3+): a request naming its producer id and epoch is a
// producer asking to go on after an error. The id must be the current one
// (or the previous one, with an exhausted epoch: a retry of the rotation)
// and the epoch the current one (bumped) or the one before the last bump
// (a retry: the same answer again); anything else is PRODUCER_FENCED
// (INVALID_PRODUCER_EPOCH before version 4, KIP-588). A request naming
// only one of them is INVALID_REQUEST.
func (c *Coordinator) InitProducerID(now time.Time, req *kmsg.InitProducerIDRequest) *Write {
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	w := &Write{Response: resp}
	fail := func(code int16) {
		resp.ErrorCode = fencedCode(code, req.Version >= 4)
		resp.ProducerID, resp.ProducerEpoch = noProducerID, noEpoch
	}
	expected, err := expectedProducer(req)
	if err == nil && req.TransactionalID == nil {
		resp.ProducerID, err = c.ids.allocate(w)
		resp.ProducerEpoch = 0
	} else if err == nil {
		err = c.initTransactional(now, w, req, expected)
	}
	if err != nil {
		fail(code(err))
	}
	w.onFail(fail)
	return c.seal(w)
}

// expectedProducer returns the producer id and epoch the request names
// (KIP-360), or nil.
func expectedProducer(req *kmsg.InitProducerIDRequest) (*producerEpoch, error) {
	if req.Version < 3 {
		return nil, nil
	}
	switch {
	case req.ProducerID == noProducerID && req.ProducerEpoch == noEpoch:
		return nil, nil
	case req.ProducerID == noProducerID || req.ProducerEpoch == noEpoch:
		return nil, kerr.InvalidRequest
	}
	return &producerEpoch{req.ProducerID, req.ProducerEpoch}, nil
}

// initTransactional answers InitProducerId for a transactional id, filling
// in the response's producer id and epoch (or CONCURRENT_TRANSACTIONS for
// a fencing abort).
// REQUIRES: c.mu is held.
func (c *Coordinator) initTransactional(now time.Time, w *Write, req *kmsg.InitProducerIDRequest, expected *producerEpoch) error {
	resp := w.Response.(*kmsg.InitProducerIDResponse)
	id := *req.TransactionalID
	if err := validID(id); err != nil {
		return err
	}
	timeoutMs := req.TransactionTimeoutMillis
	if timeoutMs <= 0 || int64(timeoutMs) > c.cfg.MaxTimeout.Milliseconds() {
		return kerr.InvalidTransactionTimeout
	}
	nowMs := millis(now)
	e, created := c.txns[id], false
	if e == nil {
		producerID, err := c.ids.allocate(w)
		if err != nil {
			return err
		}
		e = &entry{id: id, lastEpoch: noEpoch, meta: metadata{
			producerID: producerID, prevProducerID: noProducerID, nextProducerID: noProducerID,
			epoch: noEpoch, timeoutMs: timeoutMs, state: StateEmpty, startMs: -1, updateMs: nowMs,
		}}
		c.txns[id] = e
		created = true
		defer func() {
			if e.pending == nil {
				c.forget(id) // refused: the id was never written
			}
		}()
	}
	if e.busy() {
		return kerr.ConcurrentTransactions
	}
	if expected != nil && !e.mayInit(*expected) {
		return c.fencedError()
	}
	switch e.meta.state {
	case StateEmpty, StateCompleteCommit, StateCompleteAbort:
		after, lastEpoch, err := c.initMetadata(w, e, timeoutMs, expected, nowMs)
		if err != nil {
			return err
		}
		c.stage(w, e, after, lastEpoch).created = created
		resp.ProducerID, resp.ProducerEpoch = after.producerID, after.epoch
		return nil
	case StateOngoing:
		after, err := c.fenceAbort(w, e, nowMs)
		if err != nil {
			return err
		}
		c.stage(w, e, after, noEpoch)
		return kerr.ConcurrentTransactions
	}
	panic("txn: InitProducerId for " + id + " in state " + e.meta.state.String())
}

// mayInit reports whether a producer naming expected may re-initialize
// (Kafka's isValidProducerId): the id was just created, or expected names
// its producer id, or the previous one with an exhausted epoch (a retry of
// a rotation whose answer was lost).
func (e *entry) mayInit(expected producerEpoch) bool {
	return e.meta.epoch == noEpoch ||
		expected.id == e.meta.producerID ||
		expected.id == e.meta.prevProducerID && epochExhausted(expected.epoch)
}

// initMetadata returns the metadata InitProducerId gives an id without an
// open transaction, and the epoch to remember as the previous one: the
// epoch bumped (Kafka's prepareIncrementProducerEpoch), or a new producer
// id at epoch 0 when the epoch is exhausted (prepareProducerIdRotation).
// REQUIRES: c.mu is held.
func (c *Coordinator) initMetadata(w *Write, e *entry, timeoutMs int32, expected *producerEpoch, nowMs int64) (metadata, int16, error) {
	m := e.meta.next(nowMs)
	m.state, m.partitions, m.startMs, m.timeoutMs = StateEmpty, nil, -1, timeoutMs
	current := e.meta.epoch
	if epochExhausted(current) && (expected == nil || expected.epoch == current) {
		producerID, err := c.ids.allocate(w)
		if err != nil {
			return metadata{}, 0, err
		}
		m.producerID, m.epoch = producerID, 0
		if expected != nil {
			return m, current, nil
		}
		return m, noEpoch, nil
	}
	switch {
	case expected == nil:
		m.epoch = current + 1
		return m, noEpoch, nil
	case current == noEpoch || expected.epoch == current:
		m.epoch = current + 1
		return m, current, nil
	case expected.epoch == e.lastEpoch:
		// A retry of the bump that made the current epoch: the same
		// answer again.
		return m, e.lastEpoch, nil
	}
	return metadata{}, 0, c.fencedError()
}

// fenceAbort returns the metadata of an ongoing transaction aborted by the
// coordinator (for a new InitProducerId, or its timeout): the epoch bumped
// once, so that its producer is fenced, and the abort written as a
// transactions version 2 abort (Kafka's PrepareEpochFence followed by
// PrepareAbort, without a second bump). An exhausted epoch moves to a new
// producer id when the abort completes.
// REQUIRES: c.mu is held.
func (c *Coordinator) fenceAbort(w *Write, e *entry, nowMs int64) (metadata, error) {
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
	m.state, m.version = StatePrepareAbort, transactionVersion2
	return m, nil
}
