package broker

// Produce (key 0), versions 3-12 (record batches of magic 2; version 12,
// advertised under transactions version 2, adds a transactional produce's
// partition to its transaction: txn_version.go; version 13, which names
// topics by id, is not served). Versions 0-2 are advertised too, and refused
// with UNSUPPORTED_VERSION in every partition, as Kafka 4.0 does
// (KAFKA-18659): librdkafka 2.0 to 2.9 decides whether the broker takes
// gzip, snappy and lz4 batches from whether its Produce range starts at 0,
// and sends them uncompressed otherwise.
//
// Each partition's records must be exactly one v2 batch (as Kafka requires
// since version 3); the storage engine validates it, assigns its offsets
// and stores it as sent. acks=1 answers once the batch is written; acks=-1
// (all) once it is durable under the node's policy, within the request's
// timeout (REQUEST_TIMED_OUT otherwise); acks=0 answers nothing. Any other
// acks is INVALID_REQUIRED_ACKS. Topic configs the broker enforces itself
// (min.insync.replicas, timestamp bounds) are in produce_checks.go.
// A transactional produce (transactional_id set) is appended only to the
// partitions the transaction coordinator says are in the producer's
// transaction (AddPartitionsToTxn, or from version 12 the produce itself:
// txn_version.go); others get INVALID_TXN_STATE (the
// coordinator's TRANSACTION_ABORTABLE from version 11), a fenced producer
// INVALID_PRODUCER_EPOCH. The batches of idempotent
// producers have their sequence numbers checked by the storage engine: a
// retry is answered with the original offsets (stored once), a gap with
// OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch with
// INVALID_PRODUCER_EPOCH. Control batches (transaction markers) are the
// broker's to write: INVALID_RECORD.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage"
	"github.com/weir-io/weir/internal/txn"
)

func (b *Broker) produceHandler() handler {
	return handler{key: kmsg.Produce.Int16(), min: 0, max: b.txnVersioned(12, 11), serve: b.produce}
}

func (b *Broker) produce(ctx context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	refuse := int16(0)
	switch {
	case req.Version < 3:
		refuse = kerr.UnsupportedVersion.Code
	case req.Acks != 0 && req.Acks != 1 && req.Acks != -1:
		refuse = kerr.InvalidRequiredAcks.Code
	}
	// Version 12 of a transactional producer adds the partitions to its
	// transaction first: not in the connection's turn, which orders
	// appends only.
	var added error
	if refuse == 0 && req.TransactionID != nil && req.Version >= 12 {
		added = b.addToTransaction(ctx, req)
	}
	var appended []storage.AppendResult
	r.awaitTurn()
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
			if refuse != 0 {
				sp.ErrorCode = refuse
			} else if res, err := b.appendPartition(req, rt.Topic, rp.Partition, rp.Records, added); err != nil {
				sp.ErrorCode = errorCode(err)
				sp.ErrorMessage = kmsg.StringPtr(err.Error())
			} else {
				sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = res.BaseOffset, res.LogAppendTime, res.LogStart
				appended = append(appended, res)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	r.endTurn()
	if len(appended) > 0 && !b.wakesOnSync() {
		b.dataArrived()
	}
	switch req.Acks {
	case 0:
		return nil, nil
	case -1:
		if code := b.waitDurable(ctx, appended, req.TimeoutMillis); code != 0 {
			for i := range resp.Topics {
				for j := range resp.Topics[i].Partitions {
					if p := &resp.Topics[i].Partitions[j]; p.ErrorCode == 0 {
						p.ErrorCode = code
					}
				}
			}
		}
	}
	return resp, nil
}

// appendPartition appends the records of one partition; added is the
// error of adding the request's partitions to its transaction (version
// 12), if that failed.
func (b *Broker) appendPartition(req *kmsg.ProduceRequest, topic string, partition int32, records []byte, added error) (storage.AppendResult, error) {
	acks := req.Acks
	if internalTopic(topic) {
		return storage.AppendResult{}, errInternalTopic
	}
	p, err := b.engine.Partition(topic, partition)
	if err != nil {
		return storage.AppendResult{}, err
	}
	batches, err := recordbatch.Split(records)
	if err != nil {
		return storage.AppendResult{}, errors.Join(storage.ErrCorruptMessage, err)
	}
	if len(batches) != 1 {
		return storage.AppendResult{}, errOneBatch
	}
	h, err := recordbatch.ReadHeader(batches[0])
	if err != nil {
		return storage.AppendResult{}, errors.Join(storage.ErrCorruptMessage, err)
	}
	if h.Control() {
		// Transaction markers are the broker's to write, as in Kafka.
		return storage.AppendResult{}, errControlBatch
	}
	if h.ProducerID >= 0 && h.BaseSequence < 0 {
		// A producer's batch without a sequence would escape the
		// duplicate and gap checks.
		return storage.AppendResult{}, errNoSequence
	}
	if err := checkProduce(p.Config(), batches[0], acks, time.Now()); err != nil {
		return storage.AppendResult{}, err
	}
	if req.TransactionID == nil {
		return p.Append(batches[0])
	}
	if added != nil {
		return storage.AppendResult{}, verifyError(req.Version, added)
	}
	// The partition must be in the producer's ongoing transaction, as
	// the coordinator says; verified and appended before any marker of
	// the transaction (txn_version.go).
	b.txnAppendMu.RLock()
	defer b.txnAppendMu.RUnlock()
	if err := b.txn.VerifyProduce(*req.TransactionID, h.ProducerID, h.ProducerEpoch, txn.TopicPartition{Topic: topic, Partition: partition}); err != nil {
		return storage.AppendResult{}, verifyError(req.Version, err)
	}
	return p.Append(batches[0])
}

// addToTransaction adds the partitions of a transactional Produce
// (version 12 and later, transactions version 2) to the producer's
// transaction, durably, and returns nil or the coordinator's error: the
// partitions that exist whose batch is transactional, of the producer id
// and epoch of the first such batch (others are verified, and refused,
// one by one).
func (b *Broker) addToTransaction(ctx context.Context, req *kmsg.ProduceRequest) error {
	var tps []txn.TopicPartition
	producerID, epoch := int64(-1), int16(-1)
	for _, rt := range req.Topics {
		if internalTopic(rt.Topic) {
			continue
		}
		for _, rp := range rt.Partitions {
			h, err := recordbatch.ReadHeader(rp.Records)
			if err != nil || !h.Transactional() || h.Control() || h.ProducerID < 0 {
				continue
			}
			if producerID < 0 {
				producerID, epoch = h.ProducerID, h.ProducerEpoch
			}
			if h.ProducerID != producerID || h.ProducerEpoch != epoch {
				continue
			}
			if _, err := b.engine.Partition(rt.Topic, rp.Partition); err != nil {
				continue
			}
			tps = append(tps, txn.TopicPartition{Topic: rt.Topic, Partition: rp.Partition})
		}
	}
	if len(tps) == 0 {
		return nil
	}
	w := b.txnLogged(ctx, func() *txn.Write {
		return b.txn.AddToTransaction(time.Now(), *req.TransactionID, producerID, epoch, tps)
	})
	return w.Err
}

// errOneBatch: a partition's records must be exactly one batch.
var errOneBatch = errors.New("a partition's records must be exactly one record batch")

// verifyError is the error of a failed verification of a transactional
// produce, as Kafka's partition leaders answer it: a fenced producer gets
// INVALID_PRODUCER_EPOCH, what producers expect from a partition (the
// coordinator's PRODUCER_FENCED is unknown to some, kafkajs 2.2 among
// them); versions before 11 know neither TRANSACTION_ABORTABLE
// (INVALID_TXN_STATE instead) nor that CONCURRENT_TRANSACTIONS is worth
// retrying (NOT_ENOUGH_REPLICAS, which is).
func verifyError(version int16, err error) error {
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return err
	}
	switch {
	case ke == kerr.ProducerFenced:
		return kerr.InvalidProducerEpoch
	case version >= 11:
		return err
	case ke == kerr.TransactionAbortable:
		return kerr.InvalidTxnState
	case ke == kerr.ConcurrentTransactions:
		return kerr.NotEnoughReplicas
	}
	return err
}

// errNoSequence: a batch with a producer id must have a sequence.
var errNoSequence = errors.New("a batch with a producer id must have a base sequence")

// errControlBatch: clients may not write control batches.
var errControlBatch = errors.New("clients are not allowed to write control records")

// waitDurable waits until every append is durable, within the request's
// timeout; it returns the error code for the partitions, or 0.
func (b *Broker) waitDurable(ctx context.Context, appended []storage.AppendResult, timeoutMillis int32) int16 {
	if len(appended) == 0 {
		return 0
	}
	// Not cancelled with the connection: when the node shuts down, a
	// produce already appended waits for the sync that the shutdown
	// performs anyway, rather than failing a record that is kept (which
	// a retrying client would write twice).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(max(timeoutMillis, 0))*time.Millisecond)
	defer cancel()
	// The log syncs in order: waiting for the last append covers all.
	last := appended[0]
	for _, a := range appended[1:] {
		if a.After(last) {
			last = a
		}
	}
	err := b.engine.WaitDurable(ctx, last)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.DeadlineExceeded):
		return kerr.RequestTimedOut.Code
	default:
		return errorCode(err)
	}
}
