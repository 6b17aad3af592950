package storage

import (
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
)

// maxDecompressed bounds what reading one batch's records may inflate to.
const maxDecompressed = 256 << 20

// OffsetForTime returns the first offset at or after the log start whose
// record timestamp is at least ts, with that timestamp (ListOffsets by
// time). found is false when no record is that recent.
func (p *Partition) OffsetForTime(ts int64) (offset, timestamp int64, found bool, err error) {
	p.mu.Lock()
	off := p.offsetsLocked()
	p.mu.Unlock()
	if off.Batches == 0 {
		return -1, -1, false, nil
	}
	start, err := p.timeIndexHint(ts, off.LogStart)
	if err != nil {
		return 0, 0, false, fmt.Errorf("%w: time index: %v", ErrStorage, err)
	}
	// From the hint (the first batch that raised the running max to ts
	// or above), the first batch whose max timestamp reaches ts holds the
	// record. Batches before the hint cannot (the running max was below ts).
	from := max(start, off.LogStart)
	for {
		entries, err := p.batchesFrom(from, 256)
		if err != nil {
			return 0, 0, false, err
		}
		if len(entries) == 0 {
			return -1, -1, false, nil
		}
		for _, ie := range entries {
			if ie.maxTs < ts || ie.base >= off.HighWatermark {
				continue
			}
			o, t, ok, err := p.firstRecordAtOrAfter(ie, ts, off.LogStart)
			if err != nil || ok {
				return o, t, ok, err
			}
		}
		from = entries[len(entries)-1].last() + 1
	}
}

// timeIndexHint returns a base offset from which to look for ts, or
// math.MaxInt64 when no record is that recent.
//
// The time index holds, in the order of both keys and offsets, the batches
// that raised the partition's running max timestamp. Deleting batches from
// the start removes a prefix of it. If an entry below ts survives, the
// batches up to it are all below ts, and the first entry at or above ts (if
// any) names the first batch that reaches ts; if none survives, that batch
// may have been deleted and a later one, which never raised the running max,
// may reach ts: the search starts at the log start.
func (p *Partition) timeIndexHint(ts, logStart int64) (int64, error) {
	lo, hi := partitionRange(prefixTime, p.id)
	it, err := p.e.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if !it.SeekLT(timeKey(p.id, ts)) {
		return logStart, it.Error()
	}
	if !it.Next() {
		// Nothing ever reached ts.
		return math.MaxInt64, it.Error()
	}
	base, err := decodeInt64(it.Value())
	if err != nil {
		return 0, err
	}
	// The batch may since have been compacted away (the search then
	// starts at the next one) or rewritten with a lower max timestamp (the
	// search goes on past it): no batch before it reaches ts either way.
	return max(base, logStart), nil
}

// batchesFrom returns up to n index entries from the batch holding offset.
func (p *Partition) batchesFrom(offset int64, n int) ([]indexEntry, error) {
	if offset == math.MaxInt64 {
		return nil, nil
	}
	first, ok, err := findBatch(p.e.db, p.id, offset)
	if err != nil {
		return nil, fmt.Errorf("%w: index: %v", ErrStorage, err)
	}
	if !ok {
		return nil, nil
	}
	entries, err := scanIndex(p.e.db, p.id, first.base, n)
	if err != nil {
		return nil, fmt.Errorf("%w: index: %v", ErrStorage, err)
	}
	return entries, nil
}

// firstRecordAtOrAfter finds, in one batch, the first record at or after
// offset from whose timestamp is at least ts.
func (p *Partition) firstRecordAtOrAfter(ie indexEntry, ts, from int64) (int64, int64, bool, error) {
	h, records, err := p.records(ie)
	if err != nil {
		return 0, 0, false, err
	}
	for _, r := range records {
		o, t := recordOffsetTime(h, r)
		if o >= from && t >= ts {
			return o, t, true, nil
		}
	}
	return 0, 0, false, nil
}

// MaxTimestamp returns the largest record timestamp of the partition and
// the offset of the first record carrying it (ListOffsets MAX_TIMESTAMP,
// KIP-734); found is false for an empty partition.
func (p *Partition) MaxTimestamp() (offset, timestamp int64, found bool, err error) {
	p.mu.Lock()
	off := p.offsetsLocked()
	batches, maxTs, base, stale, logStart := p.mu.batches, p.mu.maxTs, p.mu.maxTsBase, p.mu.maxTsStale, p.mu.logStart
	p.mu.Unlock()
	if batches == 0 || off.HighWatermark == logStart {
		return -1, -1, false, nil
	}
	if base >= off.HighWatermark {
		// The maximum is in a batch not yet synced, which readers may not
		// see: the maximum of the others.
		return p.maxTimestampBelow(logStart, off.HighWatermark)
	}
	if stale {
		// The batch that held the maximum was deleted: find the new one.
		entries, err := p.batchesFrom(logStart, -1)
		if err != nil {
			return 0, 0, false, err
		}
		maxTs, base = math.MinInt64, -1
		for _, ie := range entries {
			if ie.maxTs > maxTs {
				maxTs, base = ie.maxTs, ie.base
			}
		}
		if base < 0 {
			return -1, -1, false, nil
		}
		p.mu.Lock()
		if p.mu.maxTsStale {
			p.mu.maxTs, p.mu.maxTsBase, p.mu.maxTsStale = maxTs, base, false
		}
		p.mu.Unlock()
	}
	ie, ok, err := findBatch(p.e.db, p.id, base)
	if err != nil || !ok {
		return 0, 0, false, fmt.Errorf("%w: batch %d of the max timestamp: %v", ErrStorage, base, err)
	}
	h, records, err := p.records(ie)
	if err != nil {
		return 0, 0, false, err
	}
	for _, r := range records {
		o, t := recordOffsetTime(h, r)
		if t == h.MaxTimestamp && o >= logStart {
			return o, t, true, nil
		}
	}
	return ie.last(), h.MaxTimestamp, true, nil
}

// maxTimestampBelow finds the largest timestamp of the batches in
// [from, to) and the offset of the first record carrying it, scanning
// their index entries.
func (p *Partition) maxTimestampBelow(from, to int64) (offset, timestamp int64, found bool, err error) {
	best := indexEntry{base: -1, maxTs: math.MinInt64}
	err = p.forEachEntry(from, to, func(ie indexEntry) {
		if ie.maxTs > best.maxTs {
			best = ie
		}
	})
	if err != nil || best.base < 0 {
		return -1, -1, false, err
	}
	h, records, err := p.records(best)
	if err != nil {
		return 0, 0, false, err
	}
	for _, r := range records {
		if o, t := recordOffsetTime(h, r); t == h.MaxTimestamp && o >= from {
			return o, t, true, nil
		}
	}
	return best.last(), h.MaxTimestamp, true, nil
}

// forEachEntry calls fn with the index entry of every batch whose base
// offset is in [from, to).
func (p *Partition) forEachEntry(from, to int64, fn func(indexEntry)) error {
	for from < to {
		entries, err := p.batchesFrom(from, 1024)
		if err != nil || len(entries) == 0 {
			return err
		}
		for _, ie := range entries {
			if ie.base >= to {
				return nil
			}
			fn(ie)
		}
		from = entries[len(entries)-1].last() + 1
	}
	return nil
}

// records reads and decodes one batch.
func (p *Partition) records(ie indexEntry) (recordbatch.Header, []kmsg.Record, error) {
	batch, err := p.readBatch(ie)
	if err != nil {
		return recordbatch.Header{}, nil, err
	}
	h, records, err := recordbatch.Records(batch, maxDecompressed)
	if err != nil {
		return h, nil, fmt.Errorf("%w: decode batch at offset %d: %v", ErrStorage, ie.base, err)
	}
	return h, records, nil
}

// recordOffsetTime returns a record's offset and timestamp.
func recordOffsetTime(h recordbatch.Header, r kmsg.Record) (int64, int64) {
	if h.LogAppendTime() {
		return h.BaseOffset + int64(r.OffsetDelta), h.MaxTimestamp
	}
	return h.BaseOffset + int64(r.OffsetDelta), h.BaseTimestamp + r.TimestampDelta64
}
