package txn

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Write is what the coordinator decided and must be made durable before it
// takes effect: the caller appends Records to the state topic (in one
// batch, in the order the coordinator returned its Writes), calls Finish
// with the outcome of the append, waits until the records are durable,
// then sends Response and writes the markers of Markers.
//
// Until Finish, the transactional ids the Write changes are busy: every
// request for them is answered CONCURRENT_TRANSACTIONS. A Write without
// Records must be finished too (Finish returns at once).
type Write struct {
	// Records make the changes durable; empty when nothing changes.
	Records []Record
	// Response is the answer to the request, complete once Finish has
	// run; nil for writes that answer no Kafka request (Tick,
	// MarkersWritten, AddToTransaction).
	Response kmsg.Response
	// Err is the outcome of AddToTransaction once Finish has run: nil, or
	// a *kerr.Error. Nil for the other writes.
	Err error
	// Markers are the transactions to complete, set by a successful
	// Finish: write their markers once Records are durable, then report
	// them with MarkersWritten.
	Markers []Markers

	changes []*change
	// block is the end of the block of producer ids this write hands out
	// ids from while its record may not be durable (0: none).
	block int64
	// fails set the response's error codes when the append fails.
	fails    []func(code int16)
	finished bool
}

// change is one transactional id's part of a Write.
type change struct {
	e *entry
	// created is set when the entry was made by this change: a failed
	// append deletes it again.
	created bool
	// remove deletes the id (expiration) instead of setting after.
	remove    bool
	after     metadata
	lastEpoch int16
	// applied runs once the change took effect (counters).
	applied func()
}

// stage adds a change of e to w and marks e busy until w is finished.
// REQUIRES: c.mu is held; e is not busy with another change.
func (c *Coordinator) stage(w *Write, e *entry, after metadata, lastEpoch int16) *change {
	if e.pending != nil {
		panic("txn: staging a change of " + e.id + " while another is pending")
	}
	ch := &change{e: e, after: after, lastEpoch: lastEpoch}
	e.pending = ch
	w.changes = append(w.changes, ch)
	return ch
}

// onFail registers f to set the response's error codes if the append
// fails.
func (w *Write) onFail(f func(code int16)) { w.fails = append(w.fails, f) }

// seal builds w's records from its changes, and returns w.
// REQUIRES: c.mu is held.
func (c *Coordinator) seal(w *Write) *Write {
	if w.block > 0 {
		size := c.cfg.ProducerIDBlockSize
		w.Records = append(w.Records, blockRecord(w.block-int64(size), size))
	}
	for _, ch := range w.changes {
		if ch.remove {
			w.Records = append(w.Records, txnTombstone(ch.e.id))
		} else {
			w.Records = append(w.Records, txnRecord(ch.e.id, ch.after))
		}
	}
	return w
}

// Finish ends a Write once its Records were appended: with code 0 the
// changes take effect (the caller must still wait for the records to be
// durable before it answers or writes markers); otherwise (the append
// failed with that Kafka error code) they are dropped, and the response
// gets the code Kafka's coordinator gives for that failure
// (COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, ...). Finishing a Write
// twice is a bug, and panics.
func (c *Coordinator) Finish(w *Write, code int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.finished {
		panic("txn: Write finished twice")
	}
	w.finished = true
	if code != 0 {
		code = appendErrorCode(code)
		for _, ch := range w.changes {
			ch.e.pending = nil
			if ch.created {
				c.forget(ch.e.id)
			}
		}
		for _, fail := range w.fails {
			fail(code)
		}
		return
	}
	c.ids.written(w.block)
	for _, ch := range w.changes {
		c.apply(w, ch)
	}
}

// apply makes a change take effect.
// REQUIRES: c.mu is held.
func (c *Coordinator) apply(w *Write, ch *change) {
	e := ch.e
	e.pending = nil
	if ch.remove {
		c.forget(e.id)
		c.stats.expired++
		return
	}
	e.meta, e.lastEpoch = ch.after, ch.lastEpoch
	e.unmarked = nil
	if e.meta.preparing() {
		c.prepared(e)
		w.Markers = append(w.Markers, c.handOut(e))
	}
	switch e.meta.state {
	case StateCompleteCommit:
		c.stats.commits++
	case StateCompleteAbort:
		c.stats.aborts++
	}
	c.track(e)
	if ch.applied != nil {
		ch.applied()
	}
}

// appendErrorCode maps the error of a failed append to the state topic to
// the code the requester gets, as Kafka's TransactionStateManager does.
func appendErrorCode(code int16) int16 {
	switch code {
	case kerr.UnknownTopicOrPartition.Code, kerr.NotEnoughReplicas.Code,
		kerr.NotEnoughReplicasAfterAppend.Code, kerr.RequestTimedOut.Code:
		return kerr.CoordinatorNotAvailable.Code
	case kerr.NotLeaderForPartition.Code, kerr.KafkaStorageError.Code:
		return kerr.NotCoordinator.Code
	case kerr.MessageTooLarge.Code, kerr.RecordListTooLarge.Code:
		return kerr.UnknownServerError.Code
	}
	return code
}
