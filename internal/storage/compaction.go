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
//
// Transactions, as Kafka's cleaner treats them: a pass stops at the last
// stable offset, so the records of a transaction still open (and all
// after them) are neither removed nor count as newer; the records of
// aborted transactions never count as the latest of their key (a
// read_committed consumer never sees them) and are removed; control
// records have keys of their own and never count either.

import (
	"context"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
)

// compact runs a compaction pass over p if enough of it is dirty.
// REQUIRES: e.cleanMu is held.
func (e *Engine) compact(ctx context.Context, p *Partition, config TopicConfig, now int64) error {
	p.mu.Lock()
	off := p.offsetsLocked()
	last := p.mu.last
	dirty := p.mu.dirtyBytes
	p.mu.Unlock()
	if off.Batches < 2 || off.Size == 0 || float64(dirty)/float64(off.Size) < config.MinCleanableDirtyRatio {
		return nil
	}
	// Rewritten batches are written before the old ones are freed.
	if err := e.checkSpace(int(off.Size)); err != nil {
		e.logger.Warn("not compacting: too little free space", "topic", p.topic.name, "partition", p.index, "err", err)
		return nil
	}
	// Only batches below the last stable offset count, and the last of
	// them is kept whole: a record is dropped only for a newer one that is
	// synced (the last stable offset is at most the high watermark) and
	// committed, so readers never see a key vanish.
	aborted, err := abortedBetween(e.db, p.id, off.LogStart, off.LastStable)
	if err != nil {
		return fmt.Errorf("%w: aborted transaction index: %v", ErrStorage, err)
	}
	spans := newAbortedSpans(aborted)
	discarded := func(h recordbatch.Header) bool {
		return h.Transactional() && !h.Control() && spans.contains(h.ProducerID, h.BaseOffset)
	}
	last = indexEntry{base: -1}
	latest := make(map[string]int64)
	err = p.eachBatch(off.LogStart, off.LastStable, func(ie indexEntry, h recordbatch.Header, records []kmsg.Record) error {
		if ie.last() >= off.LastStable {
			return nil
		}
		last = ie
		if h.Control() || discarded(h) {
			return nil
		}
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
	if last.base < 0 {
		return nil
	}
	horizon := now - config.DeleteRetentionMs
	var moves []move
	err = p.eachBatch(off.LogStart, last.base, func(ie indexEntry, h recordbatch.Header, records []kmsg.Record) error {
		if h.Control() {
			return nil
		}
		kept := records[:0:0]
		for _, r := range records {
			offset := h.BaseOffset + int64(r.OffsetDelta)
			switch {
			case discarded(h):
			case r.Key == nil:
				kept = append(kept, r)
			case latest[string(r.Key)] != offset || r.Value == nil && ie.appendTime < horizon:
			default:
				kept = append(kept, r)
			}
		}
		switch {
		case len(kept) == len(records):
			return nil
		case len(kept) == 0:
			return e.removeBatch(p, ie)
		}
		// As Kafka's cleaner: the rebuilt batch's max timestamp is that of
		// the records it keeps.
		if !h.LogAppendTime() {
			h.MaxTimestamp = math.MinInt64
			for _, r := range kept {
				h.MaxTimestamp = max(h.MaxTimestamp, h.BaseTimestamp+r.TimestampDelta64)
			}
		}
		batch, err := recordbatch.Build(h, kept)
		if err != nil {
			return fmt.Errorf("rebuild batch at offset %d: %w", ie.base, err)
		}
		m, ok, err := e.writeReplace(p, ie, batch)
		if ok {
			moves = append(moves, m)
		}
		return err
	})
	if err == nil {
		err = e.commitMoves(ctx, moves)
	}
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

// A move is a batch written again at the head of the log, by relocation
// (the same bytes) or by compaction (fewer records), and not yet indexed.
//
// Moves are two-phase so that the index never points at a copy that is not
// durable: a pass writes its replace entries (writeReplace), syncs the log
// once, and only then points the index at the copies (commitMoves). Until
// then readers use the original, which stays until its segment is removed
// after a checkpoint. Both phases run under cleanMu, so no checkpoint falls
// between them; after a crash between them, replay applies the replace
// entries that reached the disk.
type move struct {
	p    *Partition
	old  indexEntry // the batch replaced, where it was
	copy indexEntry // the copy
}

// writeReplace appends batch as a replace entry for the batch old describes,
// if that batch is still live and where old says.
// REQUIRES: e.cleanMu is held.
func (e *Engine) writeReplace(p *Partition, old indexEntry, batch []byte) (move, bool, error) {
	h, err := recordbatch.ReadHeader(batch)
	if err != nil {
		return move{}, false, fmt.Errorf("replace batch at offset %d: %w", old.base, err)
	}
	e.applyMu.RLock()
	defer e.applyMu.RUnlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	current, ok, err := p.currentLocked(old)
	if err != nil || !ok {
		return move{}, false, err
	}
	pos, size, err := e.log.Append(kindReplace, p.id, dataHeader(current.appendTime), batch)
	if err != nil {
		return move{}, false, logError("log replaced batch", err)
	}
	copied := current
	copied.position, copied.size, copied.maxTs = pos, uint32(size), h.MaxTimestamp
	return move{p: p, old: current, copy: copied}, true, nil
}

// commitMoves makes the copies durable, then points the index at each copy
// whose original is still live and in place.
// REQUIRES: e.cleanMu is held.
func (e *Engine) commitMoves(ctx context.Context, moves []move) error {
	if len(moves) == 0 {
		return nil
	}
	if err := e.log.Sync(ctx); err != nil {
		return logError("sync moved batches", err)
	}
	for _, m := range moves {
		if err := e.commitMove(m); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) commitMove(m move) error {
	p := m.p
	e.applyMu.RLock()
	defer e.applyMu.RUnlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok, err := p.currentLocked(m.old); err != nil || !ok {
		return err // deleted meanwhile: the copy is dead
	}
	if err := putIndex(e.db, p.id, m.copy); err != nil {
		return fmt.Errorf("%w: index moved batch: %v", ErrStorage, err)
	}
	ie := m.copy
	p.mu.size += ie.batchBytes() - m.old.batchBytes()
	if ie.base >= p.mu.cleanedUpTo {
		p.mu.dirtyBytes += ie.batchBytes() - m.old.batchBytes()
	}
	if p.mu.first.base == ie.base {
		p.mu.first = ie
	}
	if p.mu.last.base == ie.base {
		p.mu.last = ie
	}
	if ie.base == p.mu.maxTsBase && ie.maxTs < m.old.maxTs {
		p.mu.maxTsStale = true
	}
	e.addLive(m.old.position, -int64(m.old.size))
	e.addLive(ie.position, int64(ie.size))
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
