package storage

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// DeleteRecords advances the log start offset to offset, as Kafka's
// DeleteRecords does (-1 means the high watermark; a topic that only
// compacts refuses with ErrPolicyViolation), and returns the new log
// start. Batches wholly below it are deleted; a batch it cuts stays, and
// reads start inside it. It returns when the change is durable under the
// engine's policy.
func (p *Partition) DeleteRecords(ctx context.Context, offset int64) (int64, error) {
	p.mu.Lock()
	off := p.offsetsLocked()
	deleted := p.mu.deleted
	p.mu.Unlock()
	if deleted {
		return 0, fmt.Errorf("%w: %s/%d", ErrUnknownTopicOrPartition, p.topic.name, p.index)
	}
	if !p.Config().Deletes() {
		return 0, fmt.Errorf("%w: delete records of %s/%d, cleanup.policy %s", ErrPolicyViolation, p.topic.name, p.index, p.Config().CleanupPolicy)
	}
	if offset == -1 {
		offset = off.HighWatermark
	}
	if offset < 0 || offset > off.HighWatermark {
		return 0, fmt.Errorf("%w: delete records before %d, high watermark %d", ErrOffsetOutOfRange, offset, off.HighWatermark)
	}
	if _, err := p.e.setStart(p, offset); err != nil {
		return 0, err
	}
	// Wait for everything written so far, not only this call's entry: the
	// start may already have been moved past offset by retention, in an
	// entry not yet synced.
	if err := p.e.WaitDurable(ctx, AppendResult{end: p.e.log.Written()}); err != nil {
		return 0, err
	}
	return p.Offsets().LogStart, nil
}

// setStart logs and applies a new log start offset; it does nothing when
// the start would not move. It returns the end position of the entry it
// logged, or 0.
func (e *Engine) setStart(p *Partition, start int64) (uint64, error) {
	e.applyMu.RLock()
	defer e.applyMu.RUnlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.deleted || start <= p.mu.logStart {
		return 0, nil
	}
	start = min(start, p.mu.logEnd)
	pos, size, err := e.log.Append(kindSetStart, p.id, encodeInt64(start))
	if err != nil {
		return 0, logError("log the new log start", err)
	}
	b := e.db.NewIndexedBatch()
	defer b.Close()
	removed, kept, err := applySetStart(b, p.id, start)
	if err == nil {
		err = b.Commit(pebble.NoSync)
	}
	if err != nil {
		return 0, fmt.Errorf("%w: apply the new log start: %v", ErrStorage, err)
	}
	p.mu.logStart = start
	e.catalogStale.Store(true)
	p.removedLocked(removed)
	if kept != nil {
		p.mu.first = *kept
	}
	for _, ie := range removed {
		e.addLive(ie.position, -int64(ie.size))
	}
	return pos + uint64(size), nil
}

// applySetStart moves a partition's log start in the index (live and in
// replay; idempotent).
func applySetStart(b *pebble.Batch, pid uint64, start int64) ([]indexEntry, *indexEntry, error) {
	v, err := get(b, partitionKey(pid))
	if err != nil || v == nil {
		return nil, nil, err // a deleted partition: nothing to do
	}
	rec, err := decodePartitionRecord(v)
	if err != nil {
		return nil, nil, err
	}
	if start > rec.logStart {
		rec.logStart = start
		if err := b.Set(partitionKey(pid), encodePartitionRecord(rec), nil); err != nil {
			return nil, nil, err
		}
	}
	if err := deleteAbortedBelow(b, pid, rec.logStart); err != nil {
		return nil, nil, err
	}
	return deleteBelow(b, pid, rec.logStart)
}

// retain applies time and size retention to one partition.
func (e *Engine) retain(p *Partition, config TopicConfig, now int64) error {
	p.mu.Lock()
	off := p.offsetsLocked()
	first := p.mu.first
	p.mu.Unlock()
	if off.Batches == 0 {
		return nil
	}
	timeDue := config.RetentionMs >= 0 && first.maxTs < now-config.RetentionMs
	sizeDue := config.RetentionBytes >= 0 && off.Size > config.RetentionBytes
	if !timeDue && !sizeDue {
		return nil
	}
	start := off.LogStart
	remaining := off.Size
	from := off.LogStart
scan:
	for {
		entries, err := p.batchesFrom(from, 1024)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			break
		}
		for _, ie := range entries {
			expired := config.RetentionMs >= 0 && ie.maxTs < now-config.RetentionMs
			// As Kafka: delete the oldest while what remains is still at
			// least retention.bytes.
			oversize := config.RetentionBytes >= 0 && remaining-ie.batchBytes() >= config.RetentionBytes
			// Never past the high watermark: a batch not yet synced is
			// not yet in the log a restart would find.
			if !expired && !oversize || ie.last()+1 > off.HighWatermark {
				break scan
			}
			start = ie.last() + 1
			remaining -= ie.batchBytes()
		}
		from = entries[len(entries)-1].last() + 1
	}
	if start > off.LogStart {
		_, err := e.setStart(p, start)
		return err
	}
	return nil
}
