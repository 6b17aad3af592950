package txn

// The __transaction_state partition. The coordinator's durable state is a
// compacted partition of the storage engine. Transactional ids are kept in
// Kafka's own record format (so that tools that read Kafka's
// __transaction_state read ours), encoded with kmsg's definitions of it.
// These layouts are part of the on-disk format; docs/storage.md says the
// same.
//
// A transactional id (Kafka's TransactionLogKey / TransactionLogValue):
//
//	key    TxnMetadataKey, version 0:
//	         int16   version (0)
//	         string  transactional id (int16 length, UTF-8)
//	value  TxnMetadataValue, version 1 (flexible):
//	         int16   version (1)
//	         int64   producer id
//	         int16   producer epoch
//	         int32   transaction timeout (ms)
//	         int8    state: 0 Empty, 1 Ongoing, 2 PrepareCommit,
//	                 3 PrepareAbort, 4 CompleteCommit, 5 CompleteAbort
//	         topics  compact nullable array (null in state Empty) of
//	                   compact string topic, compact array of int32
//	                   partitions, empty tag buffer; topics sorted by
//	                   name, partitions ascending
//	         int64   last update (ms since the epoch)
//	         int64   transaction start (ms since the epoch, -1: none)
//	         tags    0: int64 previous producer id (the producer id before
//	                    the change this record holds; default -1)
//	                 1: int64 next producer id (the id a transaction
//	                    being completed moves to, its epoch being
//	                    exhausted; default -1)
//	                 2: int16 client transaction version (2: the client
//	                    speaks KIP-890's transactions version 2; default 0)
//	       or none: a tombstone, the transactional id expired
//
// Version 0 values (no tags) are read too. A value in state Dead is read
// as a tombstone; one in state PrepareEpochFence (Kafka never writes it)
// as Ongoing. The last epoch a producer held (Kafka's lastProducerEpoch,
// which lets a retried InitProducerId get the same answer) is not in the
// record, as in Kafka: after a restart such a retry is fenced.
//
// A block of producer ids (Weir's own record; Kafka keeps its blocks in
// the controller's metadata log, and Kafka's readers of
// __transaction_state skip keys of versions they do not know):
//
//	key    int16   version (1000), nothing else
//	value  int16   version (0)
//	       int64   first producer id of the block
//	       int32   number of ids in the block
//
// A block is recorded before any of its ids is answered; after a restart
// allocation resumes after the highest block recorded (and after every
// producer id a transactional id holds), so no id is handed out twice.
// Compaction keeps the last record of each key: the caller appends records
// in the order the coordinator hands them out, so the last block record is
// the highest.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// StateTopic is the internal topic holding the coordinator's state.
const StateTopic = "__transaction_state"

// Record is one record of the state topic; a nil Value is a tombstone.
type Record struct {
	Key, Value []byte
}

// Versions of keys and values. These constants are part of the on-disk
// format.
const (
	txnKeyVersion      = 0
	txnValueVersion    = 1
	blockKeyVersion    = 1000
	blockValueVersion  = 0
	blockValueByteSize = 2 + 8 + 4
)

// ErrCorruptRecord reports a record of the state topic that cannot be
// decoded.
var ErrCorruptRecord = errors.New("txn: corrupt record")

// txnKey encodes the key of a transactional id.
func txnKey(id string) []byte {
	k := kmsg.NewTxnMetadataKey()
	k.Version, k.TransactionalID = txnKeyVersion, id
	return k.AppendTo(nil)
}

// txnRecord returns the record of a transactional id's metadata.
func txnRecord(id string, m metadata) Record {
	v := kmsg.NewTxnMetadataValue()
	v.Version = txnValueVersion
	v.ProducerID, v.ProducerEpoch, v.TimeoutMillis = m.producerID, m.epoch, m.timeoutMs
	v.State = m.state
	v.LastUpdateTimestamp, v.StartTimestamp = m.updateMs, m.startMs
	v.PreviousProducerID, v.NextProducerID = m.prevProducerID, m.nextProducerID
	v.ClientTransactionVersion = m.version
	if m.state != StateEmpty {
		v.Topics = []kmsg.TxnMetadataValueTopic{}
		for _, tp := range m.partitions {
			if n := len(v.Topics); n == 0 || v.Topics[n-1].Topic != tp.Topic {
				v.Topics = append(v.Topics, kmsg.TxnMetadataValueTopic{Topic: tp.Topic})
			}
			last := &v.Topics[len(v.Topics)-1]
			last.Partitions = append(last.Partitions, tp.Partition)
		}
	}
	return Record{Key: txnKey(id), Value: v.AppendTo(nil)}
}

// txnTombstone returns the record deleting a transactional id.
func txnTombstone(id string) Record { return Record{Key: txnKey(id)} }

// blockRecord returns the record of the block of producer ids [first,
// first+size).
func blockRecord(first int64, size int32) Record {
	key := binary.BigEndian.AppendUint16(nil, blockKeyVersion)
	value := make([]byte, 0, blockValueByteSize)
	value = binary.BigEndian.AppendUint16(value, blockValueVersion)
	value = binary.BigEndian.AppendUint64(value, uint64(first))
	value = binary.BigEndian.AppendUint32(value, uint32(size))
	return Record{Key: key, Value: value}
}

// Replay applies one record of the state topic read back at start, in log
// order, before any request. Records of key versions it does not know are
// skipped; a record it cannot decode is an error (wrapping
// ErrCorruptRecord) and is skipped. After the last record, Recover.
func (c *Coordinator) Replay(key, value []byte) error {
	if len(key) < 2 {
		return fmt.Errorf("%w: key of %d bytes", ErrCorruptRecord, len(key))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch version := int16(binary.BigEndian.Uint16(key)); version {
	case txnKeyVersion:
		return c.replayTxn(key, value)
	case blockKeyVersion:
		return c.replayBlock(key, value)
	default:
		return nil
	}
}

// replayTxn applies the record of a transactional id.
// REQUIRES: c.mu is held.
func (c *Coordinator) replayTxn(key, value []byte) error {
	var k kmsg.TxnMetadataKey
	if err := k.ReadFrom(key); err != nil {
		return fmt.Errorf("%w: transactional id key: %v", ErrCorruptRecord, err)
	}
	if value == nil {
		c.forget(k.TransactionalID)
		return nil
	}
	m, err := decodeMetadata(value)
	if err != nil {
		return fmt.Errorf("%w: transactional id %q: %v", ErrCorruptRecord, k.TransactionalID, err)
	}
	if m.state == StateDead {
		c.forget(k.TransactionalID)
		return nil
	}
	e := c.txns[k.TransactionalID]
	if e == nil {
		e = &entry{id: k.TransactionalID}
		c.txns[e.id] = e
	}
	e.meta, e.lastEpoch = m, noEpoch
	e.unmarked = nil
	if m.preparing() {
		c.prepared(e)
	}
	c.track(e)
	for _, id := range []int64{m.producerID, m.prevProducerID, m.nextProducerID} {
		c.ids.sawInUse(id)
	}
	return nil
}

// decodeMetadata decodes the value of a transactional id's record.
func decodeMetadata(value []byte) (metadata, error) {
	var v kmsg.TxnMetadataValue
	if err := v.ReadFrom(value); err != nil {
		return metadata{}, err
	}
	if v.Version < 0 || v.Version > txnValueVersion {
		return metadata{}, fmt.Errorf("value version %d", v.Version)
	}
	if v.State < StateEmpty || v.State > StatePrepareEpochFence {
		return metadata{}, fmt.Errorf("state %d", v.State)
	}
	m := metadata{
		producerID: v.ProducerID, prevProducerID: v.PreviousProducerID, nextProducerID: v.NextProducerID,
		epoch: v.ProducerEpoch, timeoutMs: v.TimeoutMillis, state: v.State,
		startMs: v.StartTimestamp, updateMs: v.LastUpdateTimestamp, version: v.ClientTransactionVersion,
	}
	if v.Version == 0 {
		m.prevProducerID, m.nextProducerID, m.version = noProducerID, noProducerID, 0
	}
	if m.state == StatePrepareEpochFence {
		m.state = StateOngoing
	}
	if m.state != StateEmpty {
		for _, t := range v.Topics {
			for _, p := range t.Partitions {
				m.partitions = append(m.partitions, TopicPartition{t.Topic, p})
			}
		}
		m.partitions = normalize(m.partitions)
	}
	return m, nil
}

// replayBlock applies the record of a block of producer ids.
// REQUIRES: c.mu is held.
func (c *Coordinator) replayBlock(key, value []byte) error {
	if len(key) != 2 || len(value) != blockValueByteSize || binary.BigEndian.Uint16(value) != blockValueVersion {
		return fmt.Errorf("%w: producer id block of %d/%d bytes", ErrCorruptRecord, len(key), len(value))
	}
	first := int64(binary.BigEndian.Uint64(value[2:]))
	size := int32(binary.BigEndian.Uint32(value[10:]))
	if first < 0 || size <= 0 || first > maxProducerID-int64(size) {
		return fmt.Errorf("%w: producer id block [%d, +%d)", ErrCorruptRecord, first, size)
	}
	c.ids.sawBlock(first + int64(size))
	return nil
}

// normalize sorts partitions and drops duplicates; nil stays nil.
func normalize(tps []TopicPartition) []TopicPartition {
	slices.SortFunc(tps, TopicPartition.compare)
	return slices.Compact(tps)
}
