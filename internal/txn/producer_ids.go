package txn

import "github.com/twmb/franz-go/pkg/kerr"

// producerIDs allocates producer ids, in blocks like Kafka's
// ProducerIdManager: a block [first, first+size) is recorded in the state
// topic (blockRecord) by the first write that answers with one of its
// ids, and ids are handed out in order from it. A write that hands out an
// id of a block whose record is not yet durable carries the record too
// (Write.block), so that no answer names an id a restart could hand out
// again.
//
// Invariant: next <= reserved; durable <= reserved.
type producerIDs struct {
	size int32
	// next is the next id to hand out; reserved is the end of the last
	// block (exclusive).
	next, reserved int64
	// durable is the end of the highest block whose record was written.
	durable int64
}

// allocate returns the next producer id, recording in w the block that
// must be written with it. It fails (COORDINATOR_LOAD_IN_PROGRESS, as
// Kafka when it has no block) only when the ids are exhausted.
func (p *producerIDs) allocate(w *Write) (int64, error) {
	if p.next >= p.reserved {
		if p.next > maxProducerID-int64(p.size) {
			return noProducerID, kerr.CoordinatorLoadInProgress
		}
		p.reserved = p.next + int64(p.size)
	}
	id := p.next
	p.next++
	if id >= p.durable {
		w.block = max(w.block, p.reserved)
	}
	return id, nil
}

// written records that a block ending at end is durable.
func (p *producerIDs) written(end int64) { p.durable = max(p.durable, end) }

// sawBlock replays a block ending at end: allocation resumes after it.
func (p *producerIDs) sawBlock(end int64) {
	p.durable = max(p.durable, end)
	p.reserved = max(p.reserved, end)
	p.next = max(p.next, end)
}

// sawInUse replays a producer id held by a transactional id: allocation
// resumes after it even if its block record were lost.
func (p *producerIDs) sawInUse(id int64) {
	if id >= 0 && id < maxProducerID {
		p.next = max(p.next, id+1)
		p.reserved = max(p.reserved, p.next)
		p.durable = max(p.durable, p.next)
	}
}
