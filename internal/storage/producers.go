package storage

// Idempotent producers: per partition and producer id, the producer's
// epoch and its last batches, so that a retried batch is acknowledged
// with its original offsets instead of being written twice, and a gap in
// sequence numbers is refused, as Kafka's ProducerStateManager does.
//
// The state is kept beside the index, in Pebble (format version 1):
//
//	"r" + uint64 partition id   producer state: int16 epoch, int64 last
//	    + int64 producer id       append time (ms), uint8 n, then n batches
//	                              (oldest first) of int32 first sequence,
//	                              int32 last sequence, int64 base offset,
//	                              int64 last offset
//
// An append writes the new state in the same Pebble batch as the batch's
// index entry (not synced: the checkpoint syncs Pebble), and recovery
// rebuilds it from the log after the checkpoint as it rebuilds the index,
// so the state always describes the batches the log holds. On open, the
// batches the state names beyond the log's end (lost with a torn tail)
// are dropped, and a producer left with none is forgotten: it may then
// write any sequence, as a producer unknown to Kafka may.

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"

	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/weir-io/weir/internal/recordbatch"
)

const prefixProducer = 'r'

// producerBatches is how many of a producer's last batches are kept per
// partition: the most a client has in flight (max.in.flight 5).
const producerBatches = 5

// Errors of idempotent appends.
var (
	// ErrOutOfOrderSequence: OUT_OF_ORDER_SEQUENCE_NUMBER (45). The batch's
	// first sequence does not follow the producer's last one.
	ErrOutOfOrderSequence = errors.New("storage: out of order sequence number")
	// ErrInvalidProducerEpoch: INVALID_PRODUCER_EPOCH (47). A newer epoch
	// of the producer id has written to the partition.
	ErrInvalidProducerEpoch = errors.New("storage: producer epoch is older than the partition has seen")
)

// producerBatch is one batch of a producer, as the state remembers it.
type producerBatch struct {
	firstSeq, lastSeq int32
	base, last        int64
}

// producerState is one producer's state in one partition.
type producerState struct {
	epoch      int16
	lastAppend int64           // ms
	batches    []producerBatch // oldest first, at most producerBatches
}

// duplicateOf returns the remembered batch h repeats, if it does.
func (s *producerState) duplicateOf(h recordbatch.Header) (producerBatch, bool) {
	if h.ProducerEpoch != s.epoch {
		return producerBatch{}, false
	}
	last := h.BaseSequence + h.LastOffsetDelta
	for _, b := range s.batches {
		if b.firstSeq == h.BaseSequence && b.lastSeq == last {
			return b, true
		}
	}
	return producerBatch{}, false
}

// check says whether a batch of the producer may be appended after the
// state s (nil: a producer the partition does not know, which may start at
// any sequence).
func (s *producerState) check(h recordbatch.Header) error {
	if s == nil {
		return nil
	}
	switch {
	case h.ProducerEpoch < s.epoch:
		return fmt.Errorf("%w: producer %d epoch %d, the partition has seen epoch %d", ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, s.epoch)
	case h.ProducerEpoch > s.epoch:
		if h.BaseSequence != 0 {
			return fmt.Errorf("%w: producer %d starts epoch %d at sequence %d, not 0", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
		return nil
	case len(s.batches) == 0:
		return nil
	}
	lastSeq := s.batches[len(s.batches)-1].lastSeq
	if !inSequence(lastSeq, h.BaseSequence) {
		return fmt.Errorf("%w: producer %d epoch %d sent sequence %d after %d", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence, lastSeq)
	}
	return nil
}

// inSequence reports whether next follows last; sequences wrap from
// MaxInt32 to 0.
func inSequence(last, next int32) bool {
	return next == last+1 || last == 1<<31-1 && next == 0
}

// add records an appended batch of the producer. Batches of an older epoch
// are forgotten when a new epoch starts.
func (s *producerState) add(h recordbatch.Header, base int64, appendTime int64) {
	if h.ProducerEpoch != s.epoch {
		s.epoch, s.batches = h.ProducerEpoch, s.batches[:0]
	}
	s.lastAppend = appendTime
	if len(s.batches) == producerBatches {
		s.batches = append(s.batches[:0], s.batches[1:]...)
	}
	s.batches = append(s.batches, producerBatch{
		firstSeq: h.BaseSequence, lastSeq: h.BaseSequence + h.LastOffsetDelta,
		base: base, last: base + int64(h.LastOffsetDelta),
	})
}

// idempotent reports whether a batch carries a producer id whose
// sequences are checked: not a control batch (a transaction marker), and
// not a batch without a sequence (-1), which only the broker writes (a
// coordinator's transactional records, such as TxnOffsetCommit's offsets
// in __consumer_offsets; clients' such batches are refused before).
func idempotent(h recordbatch.Header) bool {
	return h.ProducerID >= 0 && h.BaseSequence >= 0 && !h.Control()
}

func producerKey(partition uint64, producerID int64) []byte {
	k := make([]byte, 17)
	k[0] = prefixProducer
	binary.BigEndian.PutUint64(k[1:9], partition)
	binary.BigEndian.PutUint64(k[9:17], uint64(producerID))
	return k
}

func encodeProducerState(s *producerState) []byte {
	v := make([]byte, 0, 11+len(s.batches)*24)
	v = binary.BigEndian.AppendUint16(v, uint16(s.epoch))
	v = binary.BigEndian.AppendUint64(v, uint64(s.lastAppend))
	v = append(v, byte(len(s.batches)))
	for _, b := range s.batches {
		v = binary.BigEndian.AppendUint32(v, uint32(b.firstSeq))
		v = binary.BigEndian.AppendUint32(v, uint32(b.lastSeq))
		v = binary.BigEndian.AppendUint64(v, uint64(b.base))
		v = binary.BigEndian.AppendUint64(v, uint64(b.last))
	}
	return v
}

func decodeProducerState(v []byte) (*producerState, error) {
	if len(v) < 11 || int(v[10]) > producerBatches || len(v) != 11+int(v[10])*24 {
		return nil, fmt.Errorf("malformed producer state of %d bytes", len(v))
	}
	s := &producerState{epoch: int16(binary.BigEndian.Uint16(v)), lastAppend: int64(binary.BigEndian.Uint64(v[2:]))}
	for i := range int(v[10]) {
		b := v[11+i*24:]
		s.batches = append(s.batches, producerBatch{
			firstSeq: int32(binary.BigEndian.Uint32(b)), lastSeq: int32(binary.BigEndian.Uint32(b[4:])),
			base: int64(binary.BigEndian.Uint64(b[8:])), last: int64(binary.BigEndian.Uint64(b[16:])),
		})
	}
	return s, nil
}

// replayProducer applies a data entry's batch to the producer's state in
// the index batch b during recovery. A batch the state already holds (the
// state was written after the checkpoint) changes nothing.
func replayProducer(b *pebble.Batch, partition uint64, h recordbatch.Header, appendTime int64) error {
	key := producerKey(partition, h.ProducerID)
	v, closer, err := b.Get(key)
	s := &producerState{epoch: h.ProducerEpoch}
	switch {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		return err
	default:
		decoded, derr := decodeProducerState(v)
		closer.Close()
		if derr == nil {
			s = decoded
		}
	}
	if n := len(s.batches); n > 0 && s.batches[n-1].base >= h.BaseOffset && h.ProducerEpoch == s.epoch {
		return nil
	}
	if h.ProducerEpoch < s.epoch {
		return nil
	}
	s.add(h, h.BaseOffset, appendTime)
	return b.Set(key, encodeProducerState(s), nil)
}

// loadProducers reads every partition's producer states, dropping the
// batches beyond the partition's log end (and producers left without
// one).
// REQUIRES: the partitions' log ends are known (after deriveFromIndex).
func (e *Engine) loadProducers() error {
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixProducer}, UpperBound: []byte{prefixProducer + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		key := it.Key()
		if len(key) != 17 {
			return fmt.Errorf("malformed producer key %x", key)
		}
		p := e.mu.byID[binary.BigEndian.Uint64(key[1:9])]
		if p == nil {
			continue
		}
		s, err := decodeProducerState(it.Value())
		if err != nil {
			e.logger.Warn("dropping a producer state that cannot be decoded", "topic", p.topic.name, "partition", p.index, "err", err)
			continue
		}
		kept := s.batches[:0]
		for _, b := range s.batches {
			if b.last < p.mu.logEnd {
				kept = append(kept, b)
			}
		}
		s.batches = kept
		if len(kept) == 0 {
			continue
		}
		if p.mu.producers == nil {
			p.mu.producers = make(map[int64]*producerState)
		}
		p.mu.producers[int64(binary.BigEndian.Uint64(key[9:17]))] = s
	}
	return it.Error()
}

// ProducerInfo describes one producer a partition knows: what
// DescribeProducers reports.
type ProducerInfo struct {
	ID    int64
	Epoch int16
	// LastSequence is the last sequence of its last batch (-1: none
	// kept); LastAppend the time of that append (ms).
	LastSequence int32
	LastAppend   int64
	// TxnStartOffset is the first offset of its open transaction in the
	// partition, -1 when none is open.
	TxnStartOffset int64
}

// Producers lists the idempotent and transactional producers the
// partition keeps state for, by producer id.
func (p *Partition) Producers() []ProducerInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ProducerInfo, 0, len(p.mu.producers))
	for id, s := range p.mu.producers {
		info := ProducerInfo{ID: id, Epoch: s.epoch, LastSequence: -1, LastAppend: s.lastAppend, TxnStartOffset: -1}
		if n := len(s.batches); n > 0 {
			info.LastSequence = s.batches[n-1].lastSeq
		}
		if first, ok := p.mu.txns.open[id]; ok {
			info.TxnStartOffset = first
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b ProducerInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// expireProducers forgets the producers of p that have not appended for
// Options.ProducerExpiration and have no transaction open in p, as Kafka
// expires producer ids. Their keys are deleted from the index; a recovery
// that replays their batches again brings them back until the next pass.
// REQUIRES: e.cleanMu is held.
func (e *Engine) expireProducers(p *Partition, now int64) error {
	cutoff := now - e.opts.ProducerExpiration.Milliseconds()
	e.applyMu.RLock()
	defer e.applyMu.RUnlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	var expired []int64
	for id, s := range p.mu.producers {
		if _, open := p.mu.txns.open[id]; !open && s.lastAppend < cutoff {
			expired = append(expired, id)
		}
	}
	if len(expired) == 0 {
		return nil
	}
	b := e.db.NewBatch()
	defer b.Close()
	for _, id := range expired {
		if err := b.Delete(producerKey(p.id, id), nil); err != nil {
			return err
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	for _, id := range expired {
		delete(p.mu.producers, id)
	}
	return nil
}
