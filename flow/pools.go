package flow

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The memory flow reuses between records, so that the garbage collector
// has less to do per record.

// recordPool holds records to produce, so that producing a record does
// not allocate one: the client is done with a record once its promise
// has been called. appendedPool holds the same for values encoded by
// appending (output.sendAppended), each with its value's buffer, so that
// encoding a value does not allocate one either; buffers of more than
// maxPooledValue bytes are left to the garbage collector rather than
// kept.
var (
	recordPool   = sync.Pool{New: func() any { return new(kgo.Record) }}
	appendedPool = sync.Pool{New: func() any { return new(kgo.Record) }}
)

// maxPooledValue is the largest value buffer kept for reuse.
const maxPooledValue = 64 << 10

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
