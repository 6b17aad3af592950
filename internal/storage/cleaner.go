package storage

// The cleaner: checkpoints, retention, compaction and reclamation of
// segments, all run by one maintenance goroutine (or by RunCleaner), one at
// a time under cleanMu.
//
// Every segment's live bytes are counted: an entry is live while the index
// points at it. Retention, DeleteRecords, topic deletion, compaction and
// relocation make entries dead. A closed segment that lies wholly below the
// checkpoint (so recovery will never replay it) is removed when nothing in
// it is live. A closed segment whose dead share reaches CleanerDeadRatio has
// its live batches copied to the head of the log (replace entries: same
// offsets, same bytes); after a checkpoint that covers the copies, it is
// removed. So every closed segment left is at least 1-CleanerDeadRatio live,
// and the log's size stays within live/(1-ratio) plus the active segment.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/weir-io/weir/internal/storage/commitlog"
)

// maintain runs checkpoints and the cleaner in the background.
func (e *Engine) maintain() {
	defer e.wg.Done()
	tick := time.NewTicker(min(time.Second, e.opts.CleanerInterval))
	defer tick.Stop()
	lastClean := time.Now()
	for {
		select {
		case <-e.stop:
			return
		case <-tick.C:
		}
		ctx := context.Background()
		since := time.Since(time.Unix(0, e.lastCheckpoint.Load()))
		if since >= e.opts.CheckpointInterval || e.log.Written()-e.checkpointed.Load() >= uint64(e.opts.CheckpointBytes) {
			if err := e.Checkpoint(ctx); err != nil {
				e.logger.Error("checkpoint failed", "err", err)
			}
		}
		if time.Since(lastClean) >= e.opts.CleanerInterval {
			if err := e.RunCleaner(ctx); err != nil {
				e.logger.Error("cleaner pass failed", "err", err)
			}
			lastClean = time.Now()
		}
	}
}

// Checkpoint makes the index durable up to the current end of the log, so
// that recovery replays only what follows.
func (e *Engine) Checkpoint(ctx context.Context) error {
	e.cleanMu.Lock()
	defer e.cleanMu.Unlock()
	return e.checkpointLocked(ctx)
}

// REQUIRES: e.cleanMu is held.
func (e *Engine) checkpointLocked(ctx context.Context) error {
	// Every operation holds applyMu shared from its log append until its
	// effect is in Pebble: holding it exclusively, the written position is
	// one below which every effect is applied.
	e.applyMu.Lock()
	c := e.log.Written()
	e.applyMu.Unlock()
	e.lastCheckpoint.Store(time.Now().UnixNano())
	if c == e.checkpointed.Load() && !e.catalogStale.Load() {
		return nil
	}
	if err := e.log.Sync(ctx); err != nil {
		return logError("sync log for checkpoint", err)
	}
	v := binary.BigEndian.AppendUint64(nil, c)
	if err := e.db.Set(keyCheckpoint, v, pebble.Sync); err != nil {
		return fmt.Errorf("%w: write checkpoint: %v", ErrStorage, err)
	}
	e.checkpointed.Store(c)
	if e.catalogStale.Swap(false) {
		if err := e.writeCatalogFile(c); err != nil {
			e.catalogStale.Store(true)
			return fmt.Errorf("%w: %v", ErrStorage, err)
		}
	}
	return nil
}

// RunCleaner runs one pass of retention, compaction and segment
// reclamation over every partition, now.
func (e *Engine) RunCleaner(ctx context.Context) error {
	e.cleanMu.Lock()
	defer e.cleanMu.Unlock()
	now := e.now()
	var errs []error
	for _, p := range e.partitions() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		config := p.Config()
		if config.Deletes() {
			if err := e.retain(p, config, now); err != nil {
				errs = append(errs, fmt.Errorf("retention of %s/%d: %w", p.topic.name, p.index, err))
			}
		}
		if config.Compacts() {
			if err := e.compact(ctx, p, config, now); err != nil {
				errs = append(errs, fmt.Errorf("compaction of %s/%d: %w", p.topic.name, p.index, err))
			}
		}
		if err := e.expireProducers(p, now); err != nil {
			errs = append(errs, fmt.Errorf("producer expiry of %s/%d: %w", p.topic.name, p.index, err))
		}
	}
	if err := e.reclaimLocked(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// partitions returns every partition.
func (e *Engine) partitions() []*Partition {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]*Partition, 0, len(e.mu.byID))
	for _, t := range e.mu.topics {
		out = append(out, t.partitions...)
	}
	return out
}

// reclaimLocked relocates the live batches of mostly dead segments and
// removes segments with nothing live.
// REQUIRES: e.cleanMu is held.
func (e *Engine) reclaimLocked(ctx context.Context) error {
	if err := e.checkpointLocked(ctx); err != nil {
		return err
	}
	relocated := false
	for _, seg := range e.closedBelowCheckpoint() {
		live := e.liveBytes(seg.Base)
		size := int64(seg.End - seg.Base)
		if live <= 0 || float64(size-live)/float64(size) < e.opts.CleanerDeadRatio {
			continue
		}
		// Copies are written before the segment is freed: keep the reserve.
		if err := e.checkSpace(int(live)); err != nil {
			e.logger.Warn("not relocating a segment: too little free space", "segment", seg.Base, "err", err)
			continue
		}
		if err := e.relocate(ctx, seg.Base); err != nil {
			return fmt.Errorf("relocate segment %d: %w", seg.Base, err)
		}
		relocated = true
	}
	if relocated {
		// The copies must be durable, and recovery must never need the old
		// segments, before they go.
		if err := e.checkpointLocked(ctx); err != nil {
			return err
		}
	}
	for _, seg := range e.closedBelowCheckpoint() {
		if e.liveBytes(seg.Base) > 0 {
			continue
		}
		if err := e.log.RemoveSegment(seg.Base); err != nil {
			return err
		}
		e.segMu.Lock()
		delete(e.segMu.live, seg.Base)
		e.segMu.Unlock()
	}
	return nil
}

// closedBelowCheckpoint lists the segments that are not active and end at
// or below both the checkpoint (recovery never replays them) and the
// catalog file's position (a rebuild never needs their catalog entries).
func (e *Engine) closedBelowCheckpoint() []commitlog.SegmentInfo {
	c := min(e.checkpointed.Load(), e.catalogFilePos.Load())
	var out []commitlog.SegmentInfo
	for _, s := range e.log.Segments() {
		if !s.Active && s.End <= c {
			out = append(out, s)
		}
	}
	return out
}

func (e *Engine) liveBytes(base uint64) int64 {
	e.segMu.Lock()
	defer e.segMu.Unlock()
	return e.segMu.live[base]
}

// relocate copies the live batches of a segment to the head of the log.
// REQUIRES: e.cleanMu is held.
func (e *Engine) relocate(ctx context.Context, base uint64) error {
	var moves []move
	err := e.log.ScanSegment(base, func(entry commitlog.Entry) error {
		if entry.Kind != kindData && entry.Kind != kindReplace {
			return nil
		}
		e.mu.RLock()
		p := e.mu.byID[entry.Partition]
		e.mu.RUnlock()
		if p == nil {
			return nil
		}
		_, batch, h, err := decodeData(entry.Payload)
		if err != nil {
			return err
		}
		old := indexEntry{base: h.BaseOffset, position: entry.Position, size: uint32(entry.Size), lastDelta: h.LastOffsetDelta}
		// The scanner's buffer is reused: the append copies the bytes.
		m, ok, err := e.writeReplace(p, old, batch)
		if ok {
			moves = append(moves, m)
		}
		return err
	})
	if cerr := e.commitMoves(ctx, moves); err == nil {
		err = cerr
	}
	return err
}
