package recordbatch

import (
	"bytes"
	"fmt"

	"github.com/klauspost/compress/gzip"
)

// gunzip decompresses a gzip stream (several concatenated members are read
// as one, as Java's GZIPInputStream does) of at most limit bytes.
func gunzip(src []byte, limit int) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	defer r.Close()
	return readAllLimited(r, limit)
}

// gzipBytes compresses src as one gzip member at the default level.
func gzipBytes(src []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(src); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
