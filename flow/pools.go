package flow

import (
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The memory flow reuses between records, so that the garbage collector
// has less to do per record.

// recordPool holds records to produce, so that producing a record does
// not allocate one: the client is done with a record once its promise
// has been called.
var recordPool = sync.Pool{New: func() any { return new(kgo.Record) }}

// valueArena holds the values of the records flow encodes to produce
// (output.sendAppended), one after another in large chunks, rather than
// each in a buffer of its own: encoding a value allocates nothing, and
// the client copies a batch's values into its request from consecutive
// memory, which takes a fraction of the time of gathering them from
// buffers all over the heap.
//
// A chunk is written again only once the client is done with every
// value in the arena: recycle, between steps, starts over at the first
// chunk when no record encoded into the arena is waiting for its promise
// (after a commit, which flushes, none is), and otherwise leaves the
// chunks to the records that hold them and takes new ones.
//
// The arena belongs to the goroutine that processes records: encode and
// recycle are called with the App's tasksMu held. Only pending is
// touched by the client's goroutines, in the records' promises.
type valueArena struct {
	// chunks are the arena's chunks; values go into chunks[used] from
	// offset off, and the chunks after it are free.
	chunks [][]byte
	used   int
	off    int
	// pending counts the records whose values are in the arena (this
	// round's or an earlier one's) and whose promises have not been
	// called.
	pending atomic.Int64
}

// arenaChunkSize is the size of a chunk of valueArena. A value that does
// not fit in what is left of a chunk goes into a buffer of its own, and
// the next value into the next chunk.
const arenaChunkSize = 128 << 10

// encode appends the encoding of v to the arena and returns it (its
// capacity cut to its length, so that appending to it cannot reach the
// next value). The caller counts the record it goes to in pending.
func (va *valueArena) encode(encode appendFunc, v any) ([]byte, error) {
	if va.used < len(va.chunks) && va.off == len(va.chunks[va.used]) {
		va.used, va.off = va.used+1, 0
	}
	if va.used == len(va.chunks) {
		va.chunks = append(va.chunks, make([]byte, arenaChunkSize))
	}
	chunk := va.chunks[va.used]
	b, err := encode(chunk[va.off:va.off:len(chunk)], v)
	if err != nil || len(b) == 0 {
		return b[:0:0], err // empty (or nil, Kafka's null), holding no room
	}
	if &b[0] != &chunk[va.off] {
		// Too big for the rest of the chunk: the encoding grew a
		// buffer of its own.
		va.used, va.off = va.used+1, 0
		return b, nil
	}
	va.off += len(b)
	return b[:len(b):len(b)], nil
}

// recycle starts a new round: the values written so far are left alone
// from now on, and the chunks are written again from the first when no
// record holding one of them is pending. The chunks this round did not
// reach are let go, so that the arena keeps what a step needs and no
// more.
func (va *valueArena) recycle() {
	keep := min(va.used+1, len(va.chunks))
	if va.pending.Load() != 0 {
		keep = 0
	}
	clear(va.chunks[keep:])
	va.chunks = va.chunks[:keep]
	va.used, va.off = 0, 0
}

// fetchPool lends the client the slices it decodes fetched records into
// (kgo.PoolRecords). A slice comes back once every record of its batch
// has been recycled (kgo.Record.Recycle), which processAll does after a
// partition's records are processed: flow keeps no pointer to a fetched
// record past that, only to the bytes of its key, value and headers,
// which are not pooled.
type fetchPool struct{}

var fetchedRecords sync.Pool

// GetRecords returns a pooled slice of capacity n or more, or a new one.
func (fetchPool) GetRecords(n int) []kgo.Record {
	if s, ok := fetchedRecords.Get().(*[]kgo.Record); ok && cap(*s) >= n {
		return (*s)[:0]
	}
	return make([]kgo.Record, 0, n)
}

// PutRecords takes back a slice whose records the client has zeroed.
func (fetchPool) PutRecords(s []kgo.Record) { fetchedRecords.Put(&s) }
