package recordbatch

import (
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zstdDecoder decodes whole buffers, never more than the capacity of the
// destination it is given (WithDecodeAllCapLimit). DecodeAll keeps its
// window in that destination, so a frame declaring a huge window allocates
// nothing up front. It is safe for concurrent use.
var zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
	d, err := zstd.NewReader(nil, zstd.WithDecodeAllCapLimit(true))
	if err != nil {
		panic(fmt.Sprintf("recordbatch: zstd decoder options: %v", err))
	}
	return d
})

// zstdEncoder encodes whole buffers at the default level, as Kafka's
// default compression.zstd.level 3 does. It is safe for concurrent use.
var zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
	e, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true))
	if err != nil {
		panic(fmt.Sprintf("recordbatch: zstd encoder options: %v", err))
	}
	return e
})

// zstdFirstGuess is the smallest output buffer unzstd starts with.
const zstdFirstGuess = 64 << 10

// unzstd decompresses zstd frames of at most limit bytes. The output size is
// not known up front (frames need not declare it), so it decodes into a
// buffer four times the input, and on running out of room starts over with
// four times the room, up to limit: at most a third more work than one pass.
func unzstd(src []byte, limit int) ([]byte, error) {
	size := min(limit, max(4*len(src), zstdFirstGuess))
	for {
		out, err := zstdDecoder().DecodeAll(src, make([]byte, 0, size))
		switch {
		case err == nil:
			return out, nil
		case !errors.Is(err, zstd.ErrDecoderSizeExceeded):
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		case size >= limit:
			return nil, fmt.Errorf("more than %d bytes: %w", limit, ErrTooLarge)
		case size > limit/4:
			size = limit
		default:
			size *= 4
		}
	}
}

// zstdBytes compresses src as one zstd frame.
func zstdBytes(src []byte) []byte {
	return zstdEncoder().EncodeAll(src, nil)
}
