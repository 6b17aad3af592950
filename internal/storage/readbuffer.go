package storage

import (
	"math/bits"
	"sync"
)

// Read buffers.
//
// A read returns a buffer the size of the batches it read. Allocating one
// per read costs zeroing it, and on machines that hand free memory back to
// their host (the Go runtime returns idle heap to the OS) a fault per page
// when it is touched again. Buffers come from pools by power-of-two size
// class instead, and go back when the caller is done (ReadResult.Release);
// a result that is never released is simply collected.

const (
	minReadClass = 16 // 64 KiB
	maxReadClass = 24 // 16 MiB
)

var readPools [maxReadClass + 1]sync.Pool

// getReadBuffer returns a buffer of length n. Its bytes are not zeroed:
// the caller overwrites all of them.
func getReadBuffer(n int) []byte {
	class := max(bits.Len(uint(n-1)), minReadClass)
	if n == 0 || class > maxReadClass {
		return make([]byte, n)
	}
	if b, ok := readPools[class].Get().(*[]byte); ok {
		return (*b)[:n]
	}
	return make([]byte, n, 1<<class)
}

// putReadBuffer returns a buffer from getReadBuffer to its pool.
func putReadBuffer(b []byte) {
	c := cap(b)
	if c == 0 || c&(c-1) != 0 {
		return // not from a pool
	}
	class := bits.Len(uint(c)) - 1
	if class < minReadClass || class > maxReadClass {
		return
	}
	b = b[:0]
	readPools[class].Put(&b)
}
