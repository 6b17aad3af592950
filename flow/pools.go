package flow

import (
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The memory flow reuses between records, so that the garbage collector
// has less to do per record.

// sendArena holds the records a task's output produces (output.send and
// output.sendAppended) and the values it encodes for them, one after
// another in large chunks, rather than each in an allocation of its own
// or in a sync.Pool: producing a record allocates nothing, and the
// client copies a batch's values into its request from consecutive
// memory, which takes a fraction of the time of gathering them from
// buffers all over the heap.
//
// A chunk is written again only once the client is done with everything
// in the arena: recycle, between steps, starts over at the first chunks
// when no record of the arena is waiting for its promise (after a commit,
// which flushes, none is), and otherwise leaves the chunks to the client
// and takes new ones.
//
// The arena belongs to the goroutine that processes records: record,
// encode and recycle are called with the App's tasksMu held. Only pending
// is touched by the client's goroutines, in the records' promises.
type sendArena struct {
	// records are the chunks of records; the next record is
	// records[recordChunk][nextRecord], and the chunks after it are
	// free.
	records     [][]kgo.Record
	recordChunk int
	nextRecord  int
	// values are the chunks of values; values go into values[valueChunk]
	// from offset valueOff, and the chunks after it are free.
	values     [][]byte
	valueChunk int
	valueOff   int
	// pending counts the records of the arena (this round's or an
	// earlier one's) whose promises have not been called.
	pending atomic.Int64
}

// The sizes of the arena's chunks. A value that does not fit in what is
// left of a chunk goes into a buffer of its own, and the next value into
// the next chunk.
const (
	arenaRecords   = 1024
	arenaChunkSize = 128 << 10
)

// record returns a zero record of the arena, counted in pending: the
// caller produces it with a promise that calls done.
func (sa *sendArena) record() *kgo.Record {
	if sa.recordChunk < len(sa.records) && sa.nextRecord == arenaRecords {
		sa.recordChunk, sa.nextRecord = sa.recordChunk+1, 0
	}
	if sa.recordChunk == len(sa.records) {
		sa.records = append(sa.records, make([]kgo.Record, arenaRecords))
	}
	r := &sa.records[sa.recordChunk][sa.nextRecord]
	sa.nextRecord++
	sa.pending.Add(1)
	return r
}

// done is called by the promise of each record of the arena, once the
// client is done with it.
func (sa *sendArena) done() { sa.pending.Add(-1) }

// encode appends the encoding of v to the arena and returns it (its
// capacity cut to its length, so that appending to it cannot reach the
// next value).
func (sa *sendArena) encode(encode appendFunc, v any) ([]byte, error) {
	if sa.valueChunk < len(sa.values) && sa.valueOff == arenaChunkSize {
		sa.valueChunk, sa.valueOff = sa.valueChunk+1, 0
	}
	if sa.valueChunk == len(sa.values) {
		sa.values = append(sa.values, make([]byte, arenaChunkSize))
	}
	chunk := sa.values[sa.valueChunk]
	b, err := encode(chunk[sa.valueOff:sa.valueOff:arenaChunkSize], v)
	if err != nil || len(b) == 0 {
		return b[:0:0], err // empty (or nil, Kafka's null), holding no room
	}
	if &b[0] != &chunk[sa.valueOff] {
		// Too big for the rest of the chunk: the encoding grew a
		// buffer of its own.
		sa.valueChunk, sa.valueOff = sa.valueChunk+1, 0
		return b, nil
	}
	sa.valueOff += len(b)
	return b[:len(b):len(b)], nil
}

// recycle starts a new round: what the arena holds so far is left alone
// from now on, and its chunks are written again from the first when no
// record of the arena is pending. Of the chunks this round did not reach,
// one of each kind is let go, so that the arena shrinks to what steps
// need over a few steps without giving up chunks a busier step will take
// again; the records kept are zeroed, so that they hold on to no key or
// value.
func (sa *sendArena) recycle() {
	keepRecords := min(max(sa.recordChunk+1, len(sa.records)-1), len(sa.records))
	keepValues := min(max(sa.valueChunk+1, len(sa.values)-1), len(sa.values))
	if sa.pending.Load() != 0 {
		keepRecords, keepValues = 0, 0
	}
	// The chunks after the last one this round took are zero already.
	for i, chunk := range sa.records[:min(sa.recordChunk+1, keepRecords)] {
		if i == sa.recordChunk {
			chunk = chunk[:sa.nextRecord]
		}
		clear(chunk)
	}
	clear(sa.records[keepRecords:])
	clear(sa.values[keepValues:])
	sa.records, sa.values = sa.records[:keepRecords], sa.values[:keepValues]
	sa.recordChunk, sa.nextRecord, sa.valueChunk, sa.valueOff = 0, 0, 0, 0
}

// fetchPool lends the client the slices it decodes fetched records into
// (kgo.PoolRecords). A slice comes back once every record of its batch
// has been recycled (kgo.Record.Recycle), which processAll does after a
// partition's records are processed: flow keeps no pointer to a fetched
// record past that, only to the bytes of its key, value and headers,
// which are not pooled.
//
// The slices are kept in a list of the pool's own rather than a
// sync.Pool, which the collector empties at every cycle: the client
// decodes the next fetch while flow processes the last, so a slice waits
// about as long as a fetch takes to process, through several cycles of a
// busy application's small heap. The list keeps maxFetchSlices at most;
// the client zeroes each record before giving a slice back, so what it
// keeps holds on to nothing else.
type fetchPool struct {
	mu   sync.Mutex
	free [][]kgo.Record
}

// maxFetchSlices is the most slices fetchPool keeps: those of two
// fetches of many small batches.
const maxFetchSlices = 256

// minFetchSlice is the least capacity of a slice fetchPool makes; it
// rounds capacities up to a power of two, so that slices fit batches of
// other sizes.
const minFetchSlice = 64

// GetRecords returns a pooled slice of capacity n or more, or a new one.
func (p *fetchPool) GetRecords(n int) []kgo.Record {
	p.mu.Lock()
	for i := len(p.free) - 1; i >= 0; i-- {
		if s := p.free[i]; cap(s) >= n {
			last := len(p.free) - 1
			p.free[i], p.free[last] = p.free[last], nil
			p.free = p.free[:last]
			p.mu.Unlock()
			return s[:0]
		}
	}
	p.mu.Unlock()
	size := minFetchSlice
	for size < n {
		size *= 2
	}
	return make([]kgo.Record, 0, size)
}

// PutRecords takes back a slice whose records the client has zeroed.
func (p *fetchPool) PutRecords(s []kgo.Record) {
	p.mu.Lock()
	if len(p.free) < maxFetchSlices {
		p.free = append(p.free, s)
	}
	p.mu.Unlock()
}
