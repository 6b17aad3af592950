package storage

import (
	"sync"

	"github.com/weir-io/weir/internal/storage/commitlog"
)

// Partition is one partition of a topic. Its methods are safe for
// concurrent use.
type Partition struct {
	e     *Engine
	id    uint64
	topic *topic
	index int32

	mu struct {
		sync.Mutex
		// Invariant: logStart <= logEnd; highWatermark <= logEnd.
		logStart int64
		logEnd   int64 // offset the next batch gets
		// highWatermark is the end of what consumers may read: under the
		// durable policy, the end of the batches the log has synced (a
		// record is never served before it is durable, so no consumer
		// sees a record that a crash then takes back); under the others,
		// logEnd.
		highWatermark int64
		// unsynced lists, oldest first, the batches appended under the
		// durable policy that the high watermark does not cover yet.
		unsynced    []unsyncedBatch
		size        int64 // bytes of the live batches
		first       indexEntry
		last        indexEntry // valid when logStart < logEnd
		batches     int64      // live batches
		runningMax  int64      // largest max timestamp the time index holds
		maxTs       int64      // valid unless maxTsStale
		maxTsBase   int64      // base offset of the batch holding maxTs
		maxTsStale  bool       // the batch holding the max was removed
		cleanedUpTo int64      // compaction ran over [logStart, cleanedUpTo)
		dirtyBytes  int64      // bytes of batches at or after cleanedUpTo
		deleted     bool
		// producers are the idempotent producers' states (producers.go),
		// by producer id; nil until the first.
		producers map[int64]*producerState
		// txns are the open transactions (transactions.go), which hold
		// the last stable offset back.
		txns txnState
	}
}

// Offsets are a partition's offsets and timestamps at one moment.
type Offsets struct {
	LogStart      int64
	LogEnd        int64
	HighWatermark int64
	// LastStable is the last stable offset: the first offset of the
	// oldest transaction not yet ended by a marker below the high
	// watermark (at least the log start), or the high watermark if there
	// is none. read_committed consumers read below it.
	LastStable int64
	// Size is the bytes of the partition's batches.
	Size int64
	// Batches is the number of the partition's batches.
	Batches int64
}

// unsyncedBatch is a batch the high watermark waits for: it ends at log
// position end, and next is the offset after it.
type unsyncedBatch struct {
	end  uint64
	next int64
}

// ID returns the partition's engine-wide id, which is never reused.
func (p *Partition) ID() uint64 { return p.id }

// Topic returns the name of the partition's topic.
func (p *Partition) Topic() string { return p.topic.name }

// Index returns the partition's number within its topic.
func (p *Partition) Index() int32 { return p.index }

// Offsets returns the partition's offsets.
func (p *Partition) Offsets() Offsets {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.offsetsLocked()
}

// offsetsLocked returns the partition's offsets, first moving the high
// watermark over what the log has synced since (and up to the log start,
// which retention and DeleteRecords move only up to the high watermark).
// REQUIRES: p.mu is held.
func (p *Partition) offsetsLocked() Offsets {
	p.advanceLocked()
	// Retention or DeleteRecords may have moved the start past batches
	// not yet synced.
	p.mu.highWatermark = max(p.mu.highWatermark, p.mu.logStart)
	return Offsets{
		LogStart:      p.mu.logStart,
		LogEnd:        p.mu.logEnd,
		HighWatermark: p.mu.highWatermark,
		LastStable:    p.lastStableLocked(),
		Size:          p.mu.size,
		Batches:       p.mu.batches,
	}
}

// Config returns the configs of the partition's topic.
func (p *Partition) Config() TopicConfig {
	p.e.mu.RLock()
	defer p.e.mu.RUnlock()
	return p.topic.config
}

// addedLocked updates the state after a batch was appended at the end.
// REQUIRES: p.mu is held.
func (p *Partition) addedLocked(ie indexEntry) {
	if p.mu.batches == 0 {
		p.mu.first = ie
		p.mu.maxTs, p.mu.maxTsBase, p.mu.maxTsStale = ie.maxTs, ie.base, false
	} else if !p.mu.maxTsStale && ie.maxTs > p.mu.maxTs {
		p.mu.maxTs, p.mu.maxTsBase = ie.maxTs, ie.base
	}
	p.mu.last = ie
	p.mu.batches++
	p.mu.size += ie.batchBytes()
	if ie.base >= p.mu.cleanedUpTo {
		p.mu.dirtyBytes += ie.batchBytes()
	}
	p.mu.logEnd = ie.last() + 1
	if p.e.opts.Durability.Mode != commitlog.Durable {
		p.mu.highWatermark = p.mu.logEnd
		return
	}
	p.advanceLocked()
	p.mu.unsynced = append(p.mu.unsynced, unsyncedBatch{end: ie.position + uint64(ie.size), next: p.mu.logEnd})
}

// advanceLocked moves the high watermark over the batches the log has
// synced since.
// REQUIRES: p.mu is held.
func (p *Partition) advanceLocked() {
	if len(p.mu.unsynced) == 0 || p.e.log == nil { // nil: while the log opens
		return
	}
	synced := p.e.log.SyncedPosition()
	n := 0
	for n < len(p.mu.unsynced) && p.mu.unsynced[n].end <= synced {
		p.mu.highWatermark = p.mu.unsynced[n].next
		n++
	}
	if n == len(p.mu.unsynced) {
		if cap(p.mu.unsynced) > 64 {
			p.mu.unsynced = nil // a burst is over: give its memory back
		} else {
			p.mu.unsynced = p.mu.unsynced[:0]
		}
	} else if n > 0 {
		p.mu.unsynced = append(p.mu.unsynced[:0], p.mu.unsynced[n:]...)
	}
}

// removedLocked updates the state after batches were removed.
// REQUIRES: p.mu is held.
func (p *Partition) removedLocked(removed []indexEntry) {
	for _, ie := range removed {
		p.mu.batches--
		p.mu.size -= ie.batchBytes()
		if ie.base >= p.mu.cleanedUpTo {
			p.mu.dirtyBytes -= ie.batchBytes()
		}
		if ie.base == p.mu.maxTsBase {
			p.mu.maxTsStale = true // recomputed when asked (MaxTimestamp)
		}
	}
}
