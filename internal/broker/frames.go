package broker

// Request and response frames.
//
// A request of many megabytes (a produce) is read into a pooled buffer,
// which goes back to the pool once its handler is done. A response is
// encoded into one buffer (appendResponse), written, and
// then not needed: a fetch response of many megabytes would otherwise be
// allocated (and zeroed) afresh each time, and grown by doubling while
// kmsg appends to it, copying the records several times. So fetch
// responses, whose size is known from the records they carry, get a buffer
// of the right size from a pool, and the writer returns it after the
// write. The records read from storage are released to the storage's pool
// once they are copied into the frame (request.afterEncode).

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	// pooledFrameMin and pooledFrameMax bound the frames worth pooling:
	// small ones are cheap, huge ones would pin memory.
	pooledFrameMin = 64 << 10
	pooledFrameMax = 64 << 20
)

var framePool sync.Pool // of *[]byte, empty, with cap in [pooledFrameMin, pooledFrameMax]

// frameFor returns an empty buffer that holds resp's frame without
// growing, for the responses whose size is worth knowing, else nil.
func frameFor(resp kmsg.Response) []byte {
	fetch, ok := resp.(*kmsg.FetchResponse)
	if !ok {
		return nil
	}
	// The records dominate; the rest is bounded by a few dozen bytes per
	// partition (index, offsets, error, lengths, aborted list, tags).
	size := 64
	for _, t := range fetch.Topics {
		size += len(t.Topic) + 32
		for _, p := range t.Partitions {
			size += len(p.RecordBatches) + 96
		}
	}
	if size < pooledFrameMin || size > pooledFrameMax {
		return make([]byte, 0, size)
	}
	if b, ok := framePool.Get().(*[]byte); ok && cap(*b) >= size {
		return (*b)[:0]
	}
	return make([]byte, 0, size)
}

// requestFrame returns a buffer of n bytes for a request frame, pooled
// when large.
func requestFrame(n int) []byte {
	if n >= pooledFrameMin && n <= pooledFrameMax {
		if b, ok := framePool.Get().(*[]byte); ok && cap(*b) >= n {
			return (*b)[:n]
		}
	}
	return make([]byte, n)
}

// recycleFrame returns a frame's buffer to the pool, once written (a
// response) or served (a request).
func recycleFrame(frame []byte) {
	if c := cap(frame); c >= pooledFrameMin && c <= pooledFrameMax {
		frame = frame[:0]
		framePool.Put(&frame)
	}
}
