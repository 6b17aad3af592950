package txn

import "github.com/twmb/franz-go/pkg/kerr"

// VerifyProduce answers the question a partition leader asks before it
// appends a transactional batch of a transactions version 1 client
// (produce versions 3-11, KIP-890 part 1): may producer (producerID,
// epoch) of transactionalID write to tp now, that is, is tp in its ongoing
// transaction? It returns nil, or the *kerr.Error Kafka's coordinator
// answers a verification with: INVALID_REQUEST, INVALID_PRODUCER_ID_MAPPING,
// PRODUCER_FENCED, CONCURRENT_TRANSACTIONS (the transaction completes), or
// TRANSACTION_ABORTABLE (tp is not in the transaction; produce versions
// that predate that error get INVALID_TXN_STATE, and the retriable ones
// NOT_ENOUGH_REPLICAS, as Kafka's ReplicaManager maps them).
//
// It writes nothing: a partition added by a write not yet finished is not
// in the transaction yet.
func (c *Coordinator) VerifyProduce(transactionalID string, producerID int64, epoch int16, tp TopicPartition) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.verifyOne(transactionalID, producerID, epoch, tp)
}

// VerifyTxnOffsetCommit is VerifyProduce for a TxnOffsetCommit of a
// transactions version 1 client (versions 0-4): was the partition holding
// group's offsets added to the transaction (AddOffsetsToTxn)?
func (c *Coordinator) VerifyTxnOffsetCommit(transactionalID string, producerID int64, epoch int16, group string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.verifyOne(transactionalID, producerID, epoch, c.cfg.OffsetsPartition(group))
}

// verifyOne verifies one partition.
// REQUIRES: c.mu is held.
func (c *Coordinator) verifyOne(id string, producerID int64, epoch int16, tp TopicPartition) error {
	if err := validID(id); err != nil {
		return err
	}
	a := addition{id: id, producerID: producerID, epoch: epoch, partitions: []TopicPartition{tp}, verifyOnly: true, abortable: true}
	return c.verify(a).of(tp)
}

// verify answers a verify-only addition, as Kafka's
// handleVerifyPartitionsInTransaction: a write in progress does not make
// the verification wait (the partitions already added are known).
// REQUIRES: c.mu is held.
func (c *Coordinator) verify(a addition) outcome {
	e := c.txns[a.id]
	switch {
	case e == nil || e.meta.producerID != a.producerID:
		return outcome{err: kerr.InvalidProducerIDMapping}
	case e.meta.epoch != a.epoch:
		return outcome{err: c.fencedError()}
	case e.meta.preparing():
		return outcome{err: kerr.ConcurrentTransactions}
	}
	var absent error = kerr.InvalidTxnState
	if a.abortable {
		absent = kerr.TransactionAbortable
	}
	o := outcome{partitions: make(map[TopicPartition]error)}
	for _, tp := range a.partitions {
		if e.meta.state != StateOngoing || !e.meta.contains(tp) {
			o.partitions[tp] = absent
		}
	}
	return o
}
