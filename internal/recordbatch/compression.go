package recordbatch

import (
	"bytes"
	"fmt"
	"io"
	"math"
)

// decompress returns the records section src of a batch with codec c,
// decompressed into newly allocated memory (also for None, so the result
// never aliases src). It returns ErrTooLarge as soon as the output would
// exceed limit bytes, and ErrCorrupt when src does not decompress.
func decompress(c Codec, src []byte, limit int) ([]byte, error) {
	limit = min(max(limit, 0), math.MaxInt-1) // readAllLimited reads limit+1
	var out []byte
	var err error
	switch c {
	case None:
		if len(src) > limit {
			return nil, fmt.Errorf("records section of %d bytes: %w", len(src), ErrTooLarge)
		}
		out = bytes.Clone(src)
	case Gzip:
		out, err = gunzip(src, limit)
	case Snappy:
		out, err = unsnappy(src, limit)
	case LZ4:
		out, err = unlz4(src, limit)
	case Zstd:
		out, err = unzstd(src, limit)
	default:
		err = fmt.Errorf("unknown codec: %w", ErrCorrupt)
	}
	if err != nil {
		return nil, fmt.Errorf("decompress %s: %w", c, err)
	}
	return out, nil
}

// compress returns src compressed with codec c, in newly allocated memory
// (src itself for None).
func compress(c Codec, src []byte) ([]byte, error) {
	var out []byte
	var err error
	switch c {
	case None:
		return src, nil
	case Gzip:
		out, err = gzipBytes(src)
	case Snappy:
		out = xerialSnappy(src)
	case LZ4:
		out, err = lz4Bytes(src)
	case Zstd:
		out = zstdBytes(src)
	default:
		err = fmt.Errorf("unknown codec: %w", ErrCorrupt)
	}
	if err != nil {
		return nil, fmt.Errorf("compress %s: %w", c, err)
	}
	return out, nil
}

// readAllLimited reads r to its end, returning ErrTooLarge once more than
// limit bytes come out and ErrCorrupt for any read error.
func readAllLimited(r io.Reader, limit int) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("more than %d bytes: %w", limit, ErrTooLarge)
	}
	return out, nil
}
