package storage

import (
	"errors"
	"fmt"

	"github.com/weir-io/weir/internal/storage/commitlog"
)

// ReadResult is what a read returns.
type ReadResult struct {
	// Records holds whole batches, back to back, exactly as they were
	// stored. The first batch is the one holding the offset read from (or
	// the first after it, where compaction left a gap), so it may start
	// before that offset, as in Kafka.
	Records []byte
	// Batches is the number of batches in Records.
	Batches int
	// The partition's offsets when it was read.
	LogStart      int64
	HighWatermark int64
	LastStable    int64
	// Aborted are, for ReadCommitted, the aborted transactions that
	// overlap the batches read (AbortedTransactions from the offset read
	// to the end of Records), for the consumer to skip their records.
	Aborted []AbortedTransaction
}

// Release gives Records back for reuse by later reads. The caller must not
// use Records afterwards. Not calling it is allowed (the memory is then
// collected), only slower.
func (r *ReadResult) Release() {
	putReadBuffer(r.Records)
	r.Records = nil
}

// maxReadAttempts bounds the retries of a read whose batch the cleaner
// moved between the index lookup and the read.
const maxReadAttempts = 4

// Read returns the batches from the one holding offset onwards, up to
// maxBytes; the first batch is returned whole even if it is larger (as
// Kafka does, so that a consumer always makes progress). An offset below the
// log start or above the high watermark is ErrOffsetOutOfRange; at the high
// watermark the result is empty. Every batch's checksum is verified; damaged
// bytes are an ErrStorage, never returned.
func (p *Partition) Read(offset int64, maxBytes int) (ReadResult, error) {
	return p.readRetrying(offset, maxBytes, false)
}

// ReadCommitted is Read for read_committed consumers (Kafka's isolation
// level 1): it returns only batches that end below the last stable offset,
// with the aborted transactions among them in Aborted. The offset is
// checked as Read checks it (below the log start or above the high
// watermark is ErrOffsetOutOfRange); at or past the last stable offset the
// result is empty.
func (p *Partition) ReadCommitted(offset int64, maxBytes int) (ReadResult, error) {
	return p.readRetrying(offset, maxBytes, true)
}

func (p *Partition) readRetrying(offset int64, maxBytes int, committed bool) (ReadResult, error) {
	var err error
	for range maxReadAttempts {
		var r ReadResult
		r, err = p.read(offset, maxBytes, committed)
		if !errors.Is(err, commitlog.ErrNotFound) {
			return r, err
		}
	}
	return ReadResult{}, logError("read", err)
}

// read reads up to the high watermark, or with committed up to the last
// stable offset.
func (p *Partition) read(offset int64, maxBytes int, committed bool) (ReadResult, error) {
	p.mu.Lock()
	off := p.offsetsLocked()
	last := p.mu.last
	deleted := p.mu.deleted
	p.mu.Unlock()
	if deleted {
		return ReadResult{}, fmt.Errorf("%w: %s/%d was deleted", ErrUnknownTopicOrPartition, p.topic.name, p.index)
	}
	if offset < off.LogStart || offset > off.HighWatermark {
		return ReadResult{}, fmt.Errorf("%w: offset %d, log start %d, high watermark %d",
			ErrOffsetOutOfRange, offset, off.LogStart, off.HighWatermark)
	}
	r := ReadResult{LogStart: off.LogStart, HighWatermark: off.HighWatermark, LastStable: off.LastStable}
	bound := off.HighWatermark
	if committed {
		bound = off.LastStable
	}
	if offset >= bound || off.Batches == 0 {
		return r, nil
	}
	entries, err := p.entriesFrom(offset, last, bound, maxBytes)
	if err != nil || len(entries) == 0 {
		return r, err
	}
	if committed {
		// Transactions aborted meanwhile started at or after the last
		// stable offset read, past these batches: none is missing.
		end := entries[len(entries)-1].last() + 1
		if r.Aborted, err = abortedBetween(p.e.db, p.id, offset, end); err != nil {
			return r, fmt.Errorf("%w: aborted transaction index: %v", ErrStorage, err)
		}
	}
	r.Records, err = p.readEntries(entries)
	r.Batches = len(entries)
	return r, err
}

// entriesFrom returns the index entries to read from offset, up to
// maxBytes of batches (at least one, unless the first already reaches
// bound), of batches that end below bound.
func (p *Partition) entriesFrom(offset int64, last indexEntry, bound int64, maxBytes int) ([]indexEntry, error) {
	if last.base <= offset {
		if last.last() >= bound {
			return nil, nil
		}
		return []indexEntry{last}, nil
	}
	it, err := newIndexIter(p.e.db, p.id)
	if err != nil {
		return nil, fmt.Errorf("%w: index: %v", ErrStorage, err)
	}
	defer it.Close()
	first, ok, err := findBatch(p.e.db, p.id, offset)
	if err != nil || !ok {
		return nil, errors.Join(ErrStorage, fmt.Errorf("no batch at offset %d", offset), err)
	}
	if first.last() >= bound {
		return nil, nil
	}
	entries := []indexEntry{first}
	total := int(first.batchBytes())
	for ok := it.SeekGE(indexKey(p.id, first.base+1)); ok; ok = it.Next() {
		_, ie, err := decodeIndex(it.Key(), it.Value())
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrStorage, err)
		}
		if ie.last() >= bound || total+int(ie.batchBytes()) > maxBytes {
			break
		}
		entries = append(entries, ie)
		total += int(ie.batchBytes())
	}
	return entries, nil
}

// readEntries reads the entries' batches from the log, checking each.
// Entries that lie back to back in the log (the usual case for batches
// appended together) are read with one preadv, each batch straight to its
// place in the result.
func (p *Partition) readEntries(entries []indexEntry) ([]byte, error) {
	total := 0
	for _, ie := range entries {
		total += int(ie.batchBytes())
	}
	buf := getReadBuffer(total)
	at := 0
	sizes := make([]int, 0, len(entries))
	for i := 0; i < len(entries); {
		// The run [i, j) is contiguous in the log.
		j, n := i+1, int(entries[i].batchBytes())
		for j < len(entries) && entries[j].position == entries[j-1].position+uint64(entries[j-1].size) {
			n += int(entries[j].batchBytes())
			j++
		}
		run := entries[i:j]
		sizes = sizes[:0]
		for _, ie := range run {
			sizes = append(sizes, int(ie.size))
		}
		err := p.e.log.ReadPayloads(run[0].position, sizes, dataPrefix, buf[at:at+n], func(k int, h commitlog.EntryHead) error {
			if (h.Kind != kindData && h.Kind != kindReplace) || h.Partition != p.id {
				return fmt.Errorf("%w: index entry at offset %d points at an entry of kind %d for partition %d", ErrStorage, run[k].base, h.Kind, h.Partition)
			}
			return nil
		})
		if err != nil {
			putReadBuffer(buf)
		}
		if errors.Is(err, commitlog.ErrNotFound) || errors.Is(err, ErrStorage) {
			return nil, err
		}
		if err != nil {
			p.e.logger.Error("damaged batch not served", "topic", p.topic.name, "partition", p.index, "offset", run[0].base, "err", err)
			return nil, fmt.Errorf("%w: %v", ErrStorage, err)
		}
		at += n
		i = j
	}
	return buf, nil
}

// readBatch reads one batch.
func (p *Partition) readBatch(ie indexEntry) ([]byte, error) {
	return p.readEntries([]indexEntry{ie})
}
