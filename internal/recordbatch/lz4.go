package recordbatch

import (
	"bytes"

	"github.com/pierrec/lz4/v4"
)

// unlz4 decompresses an LZ4 frame of at most limit bytes.
func unlz4(src []byte, limit int) ([]byte, error) {
	return readAllLimited(lz4.NewReader(bytes.NewReader(src)), limit)
}

// lz4Bytes compresses src as an LZ4 frame shaped like the one Kafka's Java
// client writes: independent 64 KiB blocks and no content checksum.
func lz4Bytes(src []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := lz4.NewWriter(&buf)
	if err := w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false)); err != nil {
		return nil, err
	}
	if _, err := w.Write(src); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
