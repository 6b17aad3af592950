package storage

// Compaction (cleanup.policy=compact) keeps the latest record of each key.
//
// A pass over a partition reads every batch once to learn, for each key,
// the offset of its latest record, then rewrites each batch below the last
// one: a batch whose records are all still latest is left alone; one with
// none left is removed (a remove entry); any other is rebuilt with only its
// retained records, as Kafka's cleaner does: the same base offset, last
// offset delta, producer id, epoch and base sequence, the records keeping
// their offset and timestamp deltas (so offsets never change and gaps are
// normal), compressed again with the batch's codec; it is written as a
// replace entry at the head of the log. A tombstone (a record with a null
// value) that is latest for its key is removed once delete.retention.ms has
// passed since it was appended. The partition's last batch is never
// rewritten: in Kafka's design it carries the producer state. Records
// without a key, and control batches, are kept as they are.

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
)

// compact runs a compaction pass over p if enough of it is dirty.
// REQUIRES: e.cleanMu is held.
func (e *Engine) compact(p *Partition, config TopicConfig, now int64) error {
	p.mu.Lock()
	off := p.offsetsLocked()
	last := p.mu.last
	dirty := p.mu.dirtyBytes
	p.mu.Unlock()
	if off.Batches < 2 || off.Size == 0 || float64(dirty)/float64(off.Size) < config.MinCleanableDirtyRatio {
		return nil
	}
	latest := make(map[string]int64)
	err := p.eachBatch(off.LogStart, last.base+1, func(ie indexEntry, h recordbatch.Header, records []kmsg.Record) error {
		for _, r := range records {
			if r.Key != nil {
				latest[string(r.Key)] = h.BaseOffset + int64(r.OffsetDelta)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	horizon := now - config.DeleteRetentionMs
	err = p.eachBatch(off.LogStart, last.base, func(ie indexEntry, h recordbatch.Header, records []kmsg.Record) error {
		if h.Control() {
			return nil
		}
		kept := records[:0:0]
		for _, r := range records {
			offset := h.BaseOffset + int64(r.OffsetDelta)
			if r.Key == nil {
				kept = append(kept, r)
				continue
			}
			if latest[string(r.Key)] != offset || r.Value == nil && ie.appendTime < horizon {
				continue
			}
			kept = append(kept, r)
		}
		switch {
		case len(kept) == len(records):
			return nil
		case len(kept) == 0:
			return e.removeBatch(p, ie)
		}
		batch, err := recordbatch.Build(h, kept)
		if err != nil {
			return fmt.Errorf("rebuild batch at offset %d: %w", ie.base, err)
		}
		return e.replaceBatch(p, ie, batch)
	})
	if err != nil {
		return err
	}
	return e.setCleaned(p, last.base)
}

// eachBatch calls fn with the decoded records of every batch whose base
// offset is in [from, to).
func (p *Partition) eachBatch(from, to int64, fn func(indexEntry, recordbatch.Header, []kmsg.Record) error) error {
	for from < to {
		entries, err := p.batchesFrom(from, 256)
		if err != nil || len(entries) == 0 {
			return err
		}
		for _, ie := range entries {
			if ie.base >= to {
				return nil
			}
			h, records, err := p.records(ie)
			if err != nil {
				return err
			}
			if err := fn(ie, h, records); err != nil {
				return err
			}
		}
		from = entries[len(entries)-1].last() + 1
	}
	return nil
}

// replaceBatch puts batch in the place of the batch old describes, if that
// batch is still where old says: the entry is logged at the head of the
// log and the index points at it. Relocation and compaction both use it.
// REQUIRES: e.cleanMu is held.
func (e *Engine) replaceBatch(p *Partition, old indexEntry, batch []byte) error {
	e.applyMu.RLock()
	defer e.applyMu.RUnlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if current, ok, err := p.currentLocked(old); err != nil || !ok {
		return err
	} else {
		old = current
	}
	pos, size, err := e.log.Append(kindReplace, p.id, dataHeader(old.appendTime), batch)
	if err != nil {
		return logError("log replaced batch", err)
	}
	ie := old
	ie.position, ie.size = pos, uint32(size)
	if err := putIndex(e.db, p.id, ie); err != nil {
		return fmt.Errorf("%w: index replaced batch: %v", ErrStorage, err)
	}
	p.mu.size += ie.batchBytes() - old.batchBytes()
	if p.mu.first.base == ie.base {
		p.mu.first = ie
	}
	if p.mu.last.base == ie.base {
		p.mu.last = ie
	}
	e.addLive(old.position, -int64(old.size))
	e.addLive(pos, int64(size))
	return nil
}

// removeBatch removes the batch old describes (compaction left it empty).
// REQUIRES: e.cleanMu is held.
func (e *Engine) removeBatch(p *Partition, old indexEntry) error {
	e.applyMu.RLock()
	defer e.applyMu.RUnlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	current, ok, err := p.currentLocked(old)
	if err != nil || !ok || current.base == p.mu.last.base {
		return err
	}
	if _, _, err := e.log.Append(kindRemove, p.id, encodeInt64(current.base)); err != nil {
		return logError("log removed batch", err)
	}
	if err := e.db.Delete(indexKey(p.id, current.base), pebble.NoSync); err != nil {
		return fmt.Errorf("%w: unindex removed batch: %v", ErrStorage, err)
	}
	p.removedLocked([]indexEntry{current})
	if p.mu.first.base == current.base {
		next, ok, err := findBatch(e.db, p.id, current.base+1)
		if err != nil {
			return fmt.Errorf("%w: index: %v", ErrStorage, err)
		}
		if ok {
			p.mu.first = next
		}
	}
	e.addLive(current.position, -int64(current.size))
	return nil
}

// currentLocked returns the index entry of old's batch if it is still live
// and still at old's position.
// REQUIRES: p.mu is held.
func (p *Partition) currentLocked(old indexEntry) (indexEntry, bool, error) {
	if p.mu.deleted || old.last() < p.mu.logStart {
		return indexEntry{}, false, nil
	}
	v, err := get(p.e.db, indexKey(p.id, old.base))
	if err != nil || v == nil {
		return indexEntry{}, false, err
	}
	_, current, err := decodeIndex(indexKey(p.id, old.base), v)
	if err != nil || current.position != old.position {
		return indexEntry{}, false, err
	}
	return current, true, nil
}

// setCleaned records that compaction ran up to offset.
func (e *Engine) setCleaned(p *Partition, offset int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, err := get(e.db, partitionKey(p.id))
	if err != nil || v == nil {
		return err
	}
	rec, err := decodePartitionRecord(v)
	if err != nil {
		return err
	}
	rec.cleanedUpTo = offset
	if err := e.db.Set(partitionKey(p.id), encodePartitionRecord(rec), pebble.NoSync); err != nil {
		return err
	}
	p.mu.cleanedUpTo = offset
	p.mu.dirtyBytes = p.mu.last.batchBytes()
	return nil
}
