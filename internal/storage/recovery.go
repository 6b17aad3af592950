package storage

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/weir-io/weir/internal/storage/commitlog"
)

// recover brings the index up to the end of the log and the in-memory
// state up to the index. See the package documentation. With rebuild, the
// index is empty: it is seeded from the catalog file and the whole log is
// replayed. Errors of the index are marked errIndex.
func (e *Engine) recover(rebuild bool) error {
	started := time.Now()
	var from uint64
	rp := &replayer{db: e.db, logger: e.logger, rebuild: rebuild}
	if rebuild {
		// Catalog entries below the file's position are in it; without a
		// file, the catalog entries still in the log are the best there is.
		seededTo, err := e.seedFromCatalogFile()
		if err != nil {
			return err
		}
		rp.catalogFrom = seededTo
	} else {
		v, err := get(e.db, keyCheckpoint)
		if err != nil {
			return fmt.Errorf("%w: read checkpoint: %v", errIndex, err)
		}
		if v != nil {
			if len(v) != 8 {
				return fmt.Errorf("%w: malformed checkpoint of %d bytes", errIndex, len(v))
			}
			from = binary.BigEndian.Uint64(v)
		} else if _, exists, _ := e.readCatalogFile(); exists {
			// Every checkpoint writes its key before the catalog file,
			// and the first one ends the first open: the index was lost.
			return fmt.Errorf("%w: the index has no checkpoint but the data directory has a catalog", errIndex)
		}
	}
	rp.b = e.db.NewIndexedBatch()
	log, report, err := commitlog.Open(commitlog.Options{
		FS:              e.opts.FS,
		Dir:             filepath.Join(e.opts.Dir, "log"),
		SegmentSize:     e.opts.SegmentSize,
		Durability:      e.opts.Durability,
		PageCacheWindow: e.opts.PageCacheWindow,
		Logger:          e.logger,
		Observer:        e.opts.LogObserver,
	}, from, rp.apply)
	if err == nil {
		err = rp.flush()
	}
	if err == nil && rebuild {
		err = rp.pruneBelowStarts()
	}
	rp.b.Close()
	if err != nil {
		if log != nil {
			log.Close()
		}
		return fmt.Errorf("replay commit log: %w", err)
	}
	e.log = log
	e.checkpointed.Store(from)
	if err := e.loadCatalog(); err != nil {
		return fmt.Errorf("%w: load catalog: %v", errIndex, err)
	}
	dropped, err := e.deriveFromIndex()
	if err != nil {
		return fmt.Errorf("%w: scan index: %v", errIndex, err)
	}
	if err := e.loadProducers(); err != nil {
		return fmt.Errorf("%w: load producer states: %v", errIndex, err)
	}
	if err := e.loadTransactions(rp.rescan); err != nil {
		return fmt.Errorf("%w: load transactions: %v", errIndex, err)
	}

	// So that a second crash replays nothing. A failure (a full disk) does
	// not stop the engine from serving: the next checkpoint tries again.
	if err := e.Checkpoint(context.Background()); err != nil {
		e.logger.Error("checkpoint after recovery failed; serving, and retrying later", "err", err)
	}
	e.mu.RLock()
	partitions := len(e.mu.byID)
	e.mu.RUnlock()
	e.logger.Info("storage opened",
		"dir", e.opts.Dir, "partitions", partitions, "log_bytes", e.log.DiskUsage(),
		"replayed_entries", report.Entries, "replayed_bytes", report.Bytes,
		"torn_bytes_truncated", report.Truncated, "corruptions", len(report.Corruptions),
		"index_entries_dropped", dropped, "index_rebuilt", rebuild, "took", time.Since(started))
	return nil
}

// seedFromCatalogFile writes the catalog file's topics, partitions and log
// starts into the (empty) index. It returns the log position the file
// covers, 0 if there is no usable file.
func (e *Engine) seedFromCatalogFile() (uint64, error) {
	cf, ok, err := e.readCatalogFile()
	if err != nil {
		e.logger.Error("catalog file unreadable; rebuilding the catalog from the log alone", "err", err)
		return 0, nil
	}
	if !ok {
		e.logger.Warn("no catalog file; rebuilding the catalog from the log alone")
		return 0, nil
	}
	b := e.db.NewBatch()
	defer b.Close()
	for _, rec := range cf.Topics {
		raw, err := json.Marshal(rec)
		if err != nil {
			return 0, err
		}
		if err := b.Set(topicKey(rec.Name), raw, nil); err != nil {
			return 0, fmt.Errorf("%w: %v", errIndex, err)
		}
		for i, pid := range rec.Partitions {
			pr := partitionRecord{topicID: rec.ID, index: int32(i), logStart: cf.LogStarts[strconv.FormatUint(pid, 10)]}
			if err := b.Set(partitionKey(pid), encodePartitionRecord(pr), nil); err != nil {
				return 0, fmt.Errorf("%w: %v", errIndex, err)
			}
		}
	}
	c := counters{nextPartitionID: cf.NextPartitionID, nextTopicID: cf.NextTopicID}
	if err := b.Set(keyCounters, encodeCounters(c), nil); err != nil {
		return 0, fmt.Errorf("%w: %v", errIndex, err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("%w: %v", errIndex, err)
	}
	return cf.Position, nil
}

// replayer applies log entries to the index in batches.
type replayer struct {
	db          *pebble.DB
	b           *pebble.Batch
	pending     int
	logger      *slog.Logger
	catalogFrom uint64 // catalog entries below it are skipped (the catalog file has them)
	// rebuild: the index was empty, the whole log is replayed. rescan then
	// lists the partitions whose transactions are derived after the
	// replay, in offset order (transactions.go).
	rebuild bool
	rescan  map[uint64]bool

	// Per partition, learned from the index on first use and kept up to
	// date by the replay; dropped at every catalog entry.
	known map[uint64]replayPartition
}

type replayPartition struct {
	exists     bool
	runningMax int64
}

// partition returns what the replay knows of a partition.
func (r *replayer) partition(pid uint64) (replayPartition, error) {
	if rp, ok := r.known[pid]; ok {
		return rp, nil
	}
	if r.known == nil {
		r.known = make(map[uint64]replayPartition)
	}
	v, err := get(r.b, partitionKey(pid))
	if err != nil {
		return replayPartition{}, err
	}
	rp := replayPartition{exists: v != nil}
	if rp.exists {
		if rp.runningMax, err = lastTimeIndex(r.b, pid); err != nil {
			return replayPartition{}, err
		}
	}
	r.known[pid] = rp
	return rp, nil
}

// pruneBelowStarts deletes, after a rebuild, the index entries below each
// partition's log start (the set-start entries that deleted them may be
// in segments the cleaner removed).
func (r *replayer) pruneBelowStarts() error {
	it, err := r.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixPartition}, UpperBound: []byte{prefixPartition + 1}})
	if err != nil {
		return fmt.Errorf("%w: %v", errIndex, err)
	}
	type start struct {
		pid    uint64
		offset int64
	}
	var starts []start
	for ok := it.First(); ok; ok = it.Next() {
		pr, err := decodePartitionRecord(it.Value())
		if err == nil && len(it.Key()) == 9 && pr.logStart > 0 {
			starts = append(starts, start{binary.BigEndian.Uint64(it.Key()[1:]), pr.logStart})
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("%w: %v", errIndex, err)
	}
	for _, s := range starts {
		if _, _, err := applySetStart(r.b, s.pid, s.offset); err != nil {
			return fmt.Errorf("%w: %v", errIndex, err)
		}
	}
	return r.flush()
}

func (r *replayer) flush() error {
	if r.pending == 0 {
		return r.b.Commit(pebble.NoSync)
	}
	if err := r.b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("%w: %v", errIndex, err)
	}
	r.b.Close()
	r.b = r.db.NewIndexedBatch()
	r.pending = 0
	return nil
}

// apply applies one entry. Every kind is idempotent. An entry whose
// checksum is right but whose payload cannot be decoded is logged and
// skipped; errors of the index stop the replay.
func (r *replayer) apply(entry commitlog.Entry) error {
	if err := r.applyEntry(entry); errors.Is(err, errMalformed) {
		r.logger.Error("skipping a commit log entry that cannot be decoded", "position", entry.Position, "err", err)
	} else if err != nil {
		return fmt.Errorf("%w: %v", errIndex, err)
	}
	r.pending++
	if r.pending >= 1024 {
		return r.flush()
	}
	return nil
}

func (r *replayer) applyEntry(entry commitlog.Entry) error {
	switch entry.Kind {
	case kindData, kindReplace:
		appendTime, batch, h, err := decodeData(entry.Payload)
		if err != nil {
			return fmt.Errorf("%w: data entry at %d: %v", errMalformed, entry.Position, err)
		}
		rp, err := r.partition(entry.Partition)
		if err != nil || !rp.exists {
			return err // not there: the partition was deleted since
		}
		ie := indexEntry{base: h.BaseOffset, position: entry.Position, size: uint32(entry.Size),
			lastDelta: h.LastOffsetDelta, maxTs: h.MaxTimestamp, appendTime: appendTime}
		if err := putIndex(r.b, entry.Partition, ie); err != nil {
			return err
		}
		if entry.Kind == kindData && idempotent(h) {
			if err := replayProducer(r.b, entry.Partition, h, appendTime); err != nil {
				return err
			}
		}
		if r.rebuild && transactional(h) {
			r.noteTransactional(entry.Partition)
		} else if entry.Kind == kindData && transactional(h) {
			err := replayTransaction(r.b, entry.Partition, h, batch)
			if errors.Is(err, errMarker) {
				r.logger.Error("a transaction marker that cannot be decoded changes nothing", "position", entry.Position, "err", err)
			} else if err != nil {
				return err
			}
		}
		if entry.Kind == kindData && ie.maxTs > rp.runningMax {
			rp.runningMax = ie.maxTs
			r.known[entry.Partition] = rp
			return r.b.Set(timeKey(entry.Partition, ie.maxTs), encodeInt64(ie.base), nil)
		}
		return nil
	case kindRemove:
		base, err := decodeInt64(entry.Payload)
		if err != nil {
			return fmt.Errorf("%w: remove entry at %d: %v", errMalformed, entry.Position, err)
		}
		return r.b.Delete(indexKey(entry.Partition, base), nil)
	case kindSetStart:
		start, err := decodeInt64(entry.Payload)
		if err != nil {
			return fmt.Errorf("%w: set-start entry at %d: %v", errMalformed, entry.Position, err)
		}
		_, _, err = applySetStart(r.b, entry.Partition, start)
		return err
	case kindCatalog:
		if entry.Position < r.catalogFrom {
			return nil
		}
		var op catalogOp
		if err := json.Unmarshal(entry.Payload, &op); err != nil {
			return fmt.Errorf("%w: catalog entry at %d: %v", errMalformed, entry.Position, err)
		}
		r.known = nil
		_, err := applyCatalog(r.b, op)
		return err
	}
	return fmt.Errorf("%w: entry at %d has unknown kind %d", errMalformed, entry.Position, entry.Kind)
}

// noteTransactional notes, in a rebuild, a partition with a transactional
// batch or marker: its transactions are derived after the replay, in
// offset order (transactions.go says why).
func (r *replayer) noteTransactional(pid uint64) {
	if r.rescan == nil {
		r.rescan = make(map[uint64]bool)
	}
	r.rescan[pid] = true
}

// errMalformed marks a log entry whose payload cannot be decoded.
var errMalformed = errors.New("malformed entry")

// loadCatalog builds the in-memory topics and partitions from the index.
func (e *Engine) loadCatalog() error {
	v, err := get(e.db, keyCounters)
	if err != nil {
		return err
	}
	if v != nil {
		if e.mu.counters, err = decodeCounters(v); err != nil {
			return err
		}
	}
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixTopic}, UpperBound: []byte{prefixTopic + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		var rec topicRecord
		if err := json.Unmarshal(it.Value(), &rec); err != nil {
			return fmt.Errorf("topic %q: %w", it.Key()[1:], err)
		}
		t := &topic{id: rec.ID, name: rec.Name, config: e.effectiveConfig(rec.Config)}
		if raw, err := hex.DecodeString(rec.UUID); err == nil {
			copy(t.uuid[:], raw)
		}
		for i, pid := range rec.Partitions {
			p := &Partition{e: e, id: pid, topic: t, index: int32(i)}
			p.mu.runningMax = -1 << 63
			t.partitions = append(t.partitions, p)
			e.mu.byID[pid] = p
			e.mu.counters.nextPartitionID = max(e.mu.counters.nextPartitionID, pid+1)
		}
		e.mu.topics[t.name] = t
		e.mu.counters.nextTopicID = max(e.mu.counters.nextTopicID, rec.ID+1)
	}
	if err := it.Error(); err != nil {
		return err
	}
	return e.loadPartitionRecords()
}

// loadPartitionRecords reads every partition's durable state in one pass.
func (e *Engine) loadPartitionRecords() error {
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixPartition}, UpperBound: []byte{prefixPartition + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if len(it.Key()) != 9 {
			return fmt.Errorf("malformed partition key %x", it.Key())
		}
		p := e.mu.byID[binary.BigEndian.Uint64(it.Key()[1:])]
		if p == nil {
			continue
		}
		pr, err := decodePartitionRecord(it.Value())
		if err != nil {
			return fmt.Errorf("partition %d: %w", p.id, err)
		}
		p.mu.logStart, p.mu.cleanedUpTo = pr.logStart, pr.cleanedUpTo
		p.mu.logEnd, p.mu.highWatermark = pr.logStart, pr.logStart
	}
	return it.Error()
}

// deriveFromIndex scans every index entry once: it derives each
// partition's log end, size and timestamps and each segment's live bytes,
// and drops entries that point outside the valid log. It returns the
// number of entries dropped.
func (e *Engine) deriveFromIndex() (int, error) {
	segs := e.log.Segments()
	segmentFor := func(pos uint64) (commitlog.SegmentInfo, bool) {
		i := sort.Search(len(segs), func(i int) bool { return segs[i].Base > pos }) - 1
		if i < 0 {
			return commitlog.SegmentInfo{}, false
		}
		return segs[i], true
	}
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixIndex}, UpperBound: []byte{prefixIndex + 1}})
	if err != nil {
		return 0, err
	}
	drop := e.db.NewBatch()
	defer drop.Close()
	dropped := 0
	for ok := it.First(); ok; ok = it.Next() {
		pid, ie, err := decodeIndex(it.Key(), it.Value())
		if err != nil {
			it.Close()
			return dropped, err
		}
		p := e.mu.byID[pid]
		seg, inLog := segmentFor(ie.position)
		valid := p != nil && inLog && ie.position >= seg.Base+commitlog.SegmentHeaderSize &&
			ie.position+uint64(ie.size) <= seg.End && ie.last() >= p.mu.logStart && ie.size > entryOverhead
		if !valid {
			if p != nil {
				e.logger.Warn("index entry points outside the valid log; dropping it",
					"topic", p.topic.name, "partition", p.index, "offset", ie.base, "position", ie.position)
			}
			if err := drop.Delete(append([]byte(nil), it.Key()...), nil); err != nil {
				it.Close()
				return dropped, err
			}
			dropped++
			continue
		}
		p.addedLocked(ie)
		p.mu.runningMax = max(p.mu.runningMax, ie.maxTs)
		e.segMu.live[seg.Base] += int64(ie.size)
	}
	if err := it.Close(); err != nil {
		return dropped, err
	}
	if dropped > 0 {
		if err := drop.Commit(pebble.Sync); err != nil {
			return dropped, err
		}
	}
	return dropped, e.loadRunningMax()
}

// loadRunningMax raises each partition's running max timestamp to the
// largest key of its time index, which may lie above every live batch (the
// batch that set it was deleted): new time index entries must stay above
// the ones that remain.
func (e *Engine) loadRunningMax() error {
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixTime}, UpperBound: []byte{prefixTime + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if len(it.Key()) != 17 {
			continue
		}
		if p := e.mu.byID[binary.BigEndian.Uint64(it.Key()[1:9])]; p != nil {
			p.mu.runningMax = max(p.mu.runningMax, decodeTimeKey(it.Key()))
		}
	}
	return it.Error()
}
