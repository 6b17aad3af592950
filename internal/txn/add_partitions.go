package txn

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// addition is one transaction of an AddPartitionsToTxn request, or the
// partition of an AddOffsetsToTxn, a produce or a TxnOffsetCommit.
type addition struct {
	id         string
	producerID int64
	epoch      int16
	partitions []TopicPartition
	// verifyOnly asks whether the partitions are in the transaction
	// without adding them (KIP-890 part 1: a partition leader before a
	// transactional produce).
	verifyOnly bool
	// version is the client's transaction version: 2 when a partition
	// leader adds the partitions on behalf of a KIP-890 client (adds of
	// AddPartitionsToTxn version 4+), else 0.
	version int16
	// abortable reports whether the requester knows TRANSACTION_ABORTABLE
	// (AddPartitionsToTxn version 5+); a partition not in the transaction
	// is INVALID_TXN_STATE for the others.
	abortable bool
}

// outcome is the answer to an addition: the error of each partition.
type outcome struct {
	err error
	// partitions holds the partitions whose error differs from err.
	partitions map[TopicPartition]error
	// staged reports whether a change was staged (the append may yet
	// fail).
	staged bool
}

// of returns the error of tp.
func (o outcome) of(tp TopicPartition) error {
	if err, ok := o.partitions[tp]; ok {
		return err
	}
	return o.err
}

// first returns the first error among partitions, or nil.
func (o outcome) first(partitions []TopicPartition) error {
	for _, tp := range partitions {
		if err := o.of(tp); err != nil {
			return err
		}
	}
	return nil
}

// AddPartitionsToTxn answers AddPartitionsToTxn, versions 0-5.
//
// Versions 0-3 come from clients (transactions version 1): the partitions
// join the producer's transaction, which starts (Ongoing) with its first
// partition. Versions 4-5 come from partition leaders and batch several
// transactions: those marked VerifyOnly ask whether the partitions are in
// the ongoing transaction (KIP-890 part 1, before a transactional produce:
// TRANSACTION_ABORTABLE for a partition that is not, INVALID_TXN_STATE
// before version 5); the others add them on behalf of a transactions
// version 2 client (KIP-890 part 2, whose produce adds its partitions).
//
// Errors, as Kafka's coordinator: INVALID_REQUEST (bad transactional id),
// UNKNOWN_TOPIC_OR_PARTITION for partitions that do not exist and
// OPERATION_NOT_ATTEMPTED for the others, INVALID_PRODUCER_ID_MAPPING
// (unknown id, or another producer id), CONCURRENT_TRANSACTIONS (the id is
// being written or its transaction completes), PRODUCER_FENCED (another
// epoch; INVALID_PRODUCER_EPOCH before version 2).
func (c *Coordinator) AddPartitionsToTxn(now time.Time, req *kmsg.AddPartitionsToTxnRequest) *Write {
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	w := &Write{Response: resp}
	codeOf := func(err error) int16 { return fencedCode(code(err), req.Version >= 2) }
	if req.Version < 4 {
		a := addition{id: req.TransactionalID, producerID: req.ProducerID, epoch: req.ProducerEpoch}
		for _, rt := range req.Topics {
			for _, p := range rt.Partitions {
				a.partitions = append(a.partitions, TopicPartition{rt.Topic, p})
			}
		}
		o := c.add(now, w, a)
		for _, rt := range req.Topics {
			st := kmsg.NewAddPartitionsToTxnResponseTopic()
			st.Topic = rt.Topic
			for _, p := range rt.Partitions {
				sp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				sp.Partition, sp.ErrorCode = p, codeOf(o.of(TopicPartition{rt.Topic, p}))
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		if o.staged {
			w.onFail(func(code int16) {
				for ti := range resp.Topics {
					for pi := range resp.Topics[ti].Partitions {
						resp.Topics[ti].Partitions[pi].ErrorCode = code
					}
				}
			})
		}
		return c.seal(w)
	}
	for i, rtx := range req.Transactions {
		a := addition{
			id: rtx.TransactionalID, producerID: rtx.ProducerID, epoch: rtx.ProducerEpoch,
			verifyOnly: rtx.VerifyOnly, version: transactionVersion2, abortable: req.Version >= 5,
		}
		for _, rt := range rtx.Topics {
			for _, p := range rt.Partitions {
				a.partitions = append(a.partitions, TopicPartition{rt.Topic, p})
			}
		}
		o := c.add(now, w, a)
		stx := kmsg.NewAddPartitionsToTxnResponseTransaction()
		stx.TransactionalID = rtx.TransactionalID
		for _, rt := range rtx.Topics {
			st := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
			st.Topic = rt.Topic
			for _, p := range rt.Partitions {
				sp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
				sp.Partition, sp.ErrorCode = p, code(o.of(TopicPartition{rt.Topic, p}))
				st.Partitions = append(st.Partitions, sp)
			}
			stx.Topics = append(stx.Topics, st)
		}
		resp.Transactions = append(resp.Transactions, stx)
		if o.staged {
			w.onFail(func(code int16) {
				for ti := range resp.Transactions[i].Topics {
					for pi := range resp.Transactions[i].Topics[ti].Partitions {
						resp.Transactions[i].Topics[ti].Partitions[pi].ErrorCode = code
					}
				}
			})
		}
	}
	return c.seal(w)
}

// AddOffsetsToTxn answers AddOffsetsToTxn, versions 0-4: the partition of
// __consumer_offsets holding the group's offsets (Config.OffsetsPartition)
// joins the transaction, so that its TxnOffsetCommits are completed by the
// transaction's markers. Errors are AddPartitionsToTxn's
// (INVALID_PRODUCER_EPOCH for PRODUCER_FENCED before version 2).
func (c *Coordinator) AddOffsetsToTxn(now time.Time, req *kmsg.AddOffsetsToTxnRequest) *Write {
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	w := &Write{Response: resp}
	tp := c.cfg.OffsetsPartition(req.Group)
	o := c.add(now, w, addition{id: req.TransactionalID, producerID: req.ProducerID, epoch: req.ProducerEpoch, partitions: []TopicPartition{tp}})
	resp.ErrorCode = fencedCode(code(o.of(tp)), req.Version >= 2)
	if o.staged {
		w.onFail(func(code int16) { resp.ErrorCode = code })
	}
	return c.seal(w)
}

// AddToTransaction adds partitions to the ongoing transaction of a
// transactions version 2 client, starting one if none is open: what a
// partition leader asks before the first produce (version 12+) of a
// transaction to a partition, and the group coordinator before a
// TxnOffsetCommit (version 5+) for the group's offsets partition. Once
// the Write is finished and durable, its Err is nil (the produce may be
// appended) or the *kerr.Error AddPartitionsToTxn would answer.
func (c *Coordinator) AddToTransaction(now time.Time, transactionalID string, producerID int64, epoch int16, partitions []TopicPartition) *Write {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &Write{}
	o := c.add(now, w, addition{id: transactionalID, producerID: producerID, epoch: epoch, partitions: partitions, version: transactionVersion2})
	w.Err = o.first(partitions)
	if o.staged {
		w.onFail(func(code int16) { w.Err = kerr.ErrorForCode(code) })
	}
	return c.seal(w)
}

// add answers one addition, staging the change that adds its partitions.
// REQUIRES: c.mu is held.
func (c *Coordinator) add(now time.Time, w *Write, a addition) outcome {
	if err := validID(a.id); err != nil {
		return outcome{err: err}
	}
	if a.verifyOnly {
		return c.verify(a)
	}
	if o, missing := c.missing(a.partitions); missing {
		return o
	}
	e := c.txns[a.id]
	switch {
	case e == nil:
		return outcome{err: kerr.InvalidProducerIDMapping}
	case e.busy():
		// Before the producer id: a version 2 client whose epoch was
		// exhausted holds the next producer id before the completion
		// moves the transactional id to it (KAFKA-18660).
		return outcome{err: kerr.ConcurrentTransactions}
	case e.meta.producerID != a.producerID:
		return outcome{err: kerr.InvalidProducerIDMapping}
	case e.meta.epoch != a.epoch:
		return outcome{err: c.fencedError()}
	case e.meta.state == StateOngoing && e.meta.containsAll(a.partitions):
		return outcome{}
	}
	nowMs := millis(now)
	m := e.meta.next(nowMs)
	if e.meta.state != StateOngoing {
		m.startMs = nowMs
	}
	m.state = StateOngoing
	m.partitions = union(e.meta.partitions, a.partitions)
	m.version = a.version
	c.stage(w, e, m, e.lastEpoch)
	return outcome{staged: true}
}

// missing returns UNKNOWN_TOPIC_OR_PARTITION for the partitions that do
// not exist and OPERATION_NOT_ATTEMPTED for the others, if any is missing.
// REQUIRES: c.mu is held.
func (c *Coordinator) missing(partitions []TopicPartition) (outcome, bool) {
	o := outcome{err: kerr.OperationNotAttempted}
	for _, tp := range partitions {
		if !c.cfg.PartitionExists(tp.Topic, tp.Partition) {
			if o.partitions == nil {
				o.partitions = make(map[TopicPartition]error)
			}
			o.partitions[tp] = kerr.UnknownTopicOrPartition
		}
	}
	return o, o.partitions != nil
}
