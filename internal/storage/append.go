package storage

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage/commitlog"
)

// AppendResult says where an appended batch went.
type AppendResult struct {
	BaseOffset int64
	LastOffset int64
	// LogAppendTime is the broker's timestamp for topics with
	// message.timestamp.type=LogAppendTime, -1 otherwise.
	LogAppendTime int64
	// LogStart is the partition's log start offset after the append.
	LogStart int64
	// Duplicate: the batch repeats one of its idempotent producer's last
	// batches (a retry); nothing was written, and the offsets are the
	// original's.
	Duplicate bool

	end uint64 // log position just past the entry
}

// Append validates batch, a single Kafka v2 record batch, assigns its base
// offset, and writes it to the log. It modifies batch in place (the base
// offset, and for LogAppendTime topics the timestamps and CRC). When Append
// returns the batch is readable; WaitDurable says when it is durable.
//
// A batch of an idempotent producer is checked against its last ones
// (producers.go). A transactional batch opens its producer's transaction
// and a transaction marker (a control batch, markers.go) ends it
// (transactions.go); a control batch that is not a valid marker is
// ErrCorruptMessage, and a batch outside the transaction of a producer
// that has one open is ErrInvalidTxnState. Append does not know who sends
// a batch: refusing control batches from clients, as Kafka does, is the
// caller's job.
func (p *Partition) Append(batch []byte) (AppendResult, error) {
	e := p.e
	if e.closed.Load() {
		return AppendResult{}, ErrClosed
	}
	h, err := recordbatch.Validate(batch)
	if err != nil {
		return AppendResult{}, batchError(err)
	}
	// As Kafka at produce time: a new batch has records, and its last
	// offset delta matches their number (only compaction leaves gaps).
	if h.NumRecords <= 0 || h.LastOffsetDelta != h.NumRecords-1 {
		return AppendResult{}, fmt.Errorf("%w: %d records with last offset delta %d", ErrCorruptMessage, h.NumRecords, h.LastOffsetDelta)
	}
	config := p.Config()
	if len(batch) > int(config.MaxMessageBytes) {
		return AppendResult{}, fmt.Errorf("%w: %d bytes, max.message.bytes is %d", ErrMessageTooLarge, len(batch), config.MaxMessageBytes)
	}
	var marker txnMarker
	if h.Control() {
		if marker, err = markerOf(batch); err != nil {
			return AppendResult{}, fmt.Errorf("%w: %v", ErrCorruptMessage, err)
		}
	}
	if err := e.checkSpace(len(batch)); err != nil {
		return AppendResult{}, err
	}
	now := e.now()
	result := AppendResult{LogAppendTime: -1}

	e.applyMu.RLock()
	defer e.applyMu.RUnlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.deleted {
		return AppendResult{}, fmt.Errorf("%w: %s/%d was deleted", ErrUnknownTopicOrPartition, p.topic.name, p.index)
	}
	var producer *producerState
	if idempotent(h) {
		old := p.mu.producers[h.ProducerID]
		if old != nil {
			if dup, ok := old.duplicateOf(h); ok {
				result.BaseOffset, result.LastOffset, result.LogStart = dup.base, dup.last, p.mu.logStart
				result.Duplicate = true
				// The original is at or before the last batch: waiting for
				// that to be durable covers it.
				result.end = p.mu.last.position + uint64(p.mu.last.size)
				return result, nil
			}
		}
		if err := old.check(h); err != nil {
			return AppendResult{}, err
		}
		producer = &producerState{epoch: h.ProducerEpoch}
		if old != nil {
			producer.epoch, producer.batches = old.epoch, append([]producerBatch(nil), old.batches...)
		}
	}
	base := p.mu.logEnd
	txn, err := p.txnChangeLocked(h, marker, base)
	if err != nil {
		return AppendResult{}, err
	}
	recordbatch.SetBaseOffset(batch, base)
	// One node, one leader epoch, as Metadata and OffsetForLeaderEpoch say.
	recordbatch.SetPartitionLeaderEpoch(batch, 0)
	if config.LogAppendTime {
		recordbatch.SetLogAppendTime(batch, now)
		h.MaxTimestamp = now
		result.LogAppendTime = now
	}
	pos, size, err := e.log.Append(kindData, p.id, dataHeader(now), batch)
	if err != nil {
		return AppendResult{}, logError("append", err)
	}
	ie := indexEntry{base: base, position: pos, size: uint32(size), lastDelta: h.LastOffsetDelta, maxTs: h.MaxTimestamp, appendTime: now}
	if producer != nil {
		producer.add(h, base, now)
	}
	if err := p.indexLocked(ie, h.ProducerID, producer, txn); err != nil {
		return AppendResult{}, fmt.Errorf("%w: index batch: %v", ErrStorage, err)
	}
	if producer != nil {
		if p.mu.producers == nil {
			p.mu.producers = make(map[int64]*producerState)
		}
		p.mu.producers[h.ProducerID] = producer
	}
	p.addedLocked(ie)
	if txn != nil {
		p.txnAppliedLocked(*txn)
	}
	e.addLive(pos, int64(size))
	result.BaseOffset, result.LastOffset = base, ie.last()
	result.LogStart = p.mu.logStart
	result.end = pos + uint64(size)
	return result, nil
}

// indexLocked writes the index entry of a new batch, a time index entry
// when it raises the running max timestamp, the new state of the batch's
// producer (producer nil: the batch has none), and what it changes in the
// partition's transactions (txn nil: nothing).
// REQUIRES: p.mu is held.
func (p *Partition) indexLocked(ie indexEntry, producerID int64, producer *producerState, txn *txnChange) error {
	b := p.e.db.NewBatch()
	defer b.Close()
	if err := putIndex(b, p.id, ie); err != nil {
		return err
	}
	if producer != nil {
		if err := b.Set(producerKey(p.id, producerID), encodeProducerState(producer), nil); err != nil {
			return err
		}
	}
	if txn != nil {
		if err := writeTxnChange(b, p.id, *txn); err != nil {
			return err
		}
	}
	raised := ie.maxTs > p.mu.runningMax
	if raised {
		if err := b.Set(timeKey(p.id, ie.maxTs), encodeInt64(ie.base), nil); err != nil {
			return err
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	if raised {
		p.mu.runningMax = ie.maxTs
	}
	return nil
}

// After reports whether r was written to the log after other: waiting for
// r to be durable then covers other too.
func (r AppendResult) After(other AppendResult) bool { return r.end > other.end }

// WaitDurable returns when the append is durable under the engine's
// durability policy: after the fsync that covers it for durable, at once
// for interval and none (which promise nothing more).
func (e *Engine) WaitDurable(ctx context.Context, r AppendResult) error {
	if e.opts.Durability.Mode != commitlog.Durable {
		return nil
	}
	if err := e.log.WaitSynced(ctx, r.end); err != nil {
		return logError("wait for fsync", err)
	}
	return nil
}

// AppendDurable appends and waits until the batch is durable.
func (p *Partition) AppendDurable(ctx context.Context, batch []byte) (AppendResult, error) {
	r, err := p.Append(batch)
	if err != nil {
		return r, err
	}
	return r, p.e.WaitDurable(ctx, r)
}
