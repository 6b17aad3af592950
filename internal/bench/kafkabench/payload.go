package kafkabench

// A record's value, as the producers write it (RecordSize bytes):
//
//	bytes 0-7   the stamp: when the record was handed to the client, in
//	            nanoseconds since the run's epoch on the monotonic clock,
//	            big-endian (only in values of at least 8 bytes)
//	bytes 8-    filler: random upper-case letters, generated once per run
//
// The stamp means something only to the process that wrote it; the e2e
// consumers read it to measure end-to-end latency.

import (
	"encoding/binary"
	"math/rand/v2"
	"time"
)

// stampSize is the size of the stamp at the start of a value: big-endian
// nanoseconds since the run's epoch, on the monotonic clock, when the
// record was handed to the client.
const stampSize = 8

// fillerSpread is how many distinct windows of the filler the pooled
// values are cut from.
const fillerSpread = 4096

// filler returns random upper-case letters, enough to cut values of size
// bytes at fillerSpread different offsets.
func filler(size int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := make([]byte, size+fillerSpread)
	for i := range b {
		b[i] = 'A' + byte(rng.IntN(26))
	}
	return b
}

// newValue returns the n-th value of size bytes cut from fill.
func newValue(fill []byte, size, n int) []byte {
	off := (n * 61) % fillerSpread
	v := make([]byte, size)
	copy(v, fill[off:off+size])
	return v
}

// putStamp writes the stamp of a record handed to the client at since
// the epoch into v, when v has room for it.
func putStamp(v []byte, since time.Duration) {
	if len(v) >= stampSize {
		binary.BigEndian.PutUint64(v, uint64(since))
	}
}

// readStamp returns the stamp of v, and false when v is too short to
// carry one.
func readStamp(v []byte) (time.Duration, bool) {
	if len(v) < stampSize {
		return 0, false
	}
	return time.Duration(binary.BigEndian.Uint64(v)), true
}
