package recordbatch

import (
	"fmt"
	"hash/crc32"
)

// castagnoli is the CRC-32C table; hash/crc32 uses the CPU's CRC32
// instructions for it where they exist.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// minRecordSize is the smallest encoding of a record: one byte each for the
// length, attributes, timestamp delta, offset delta, key length, value length
// and header count.
const minRecordSize = 7

// Validate checks that b is exactly one well-formed v2 batch and returns its
// header. It checks, without decompressing anything, that len(b) is 12+Length,
// the magic is 2, the CRC-32C matches, the codec is known, the record count
// and last offset delta are non-negative and consistent (LastOffsetDelta >=
// NumRecords-1: compaction may leave gaps, never overlaps), and that an
// uncompressed records section is large enough for its record count.
// Records decodes and checks the records themselves.
func Validate(b []byte) (Header, error) {
	h, err := ReadHeader(b)
	if err != nil {
		return h, fmt.Errorf("validate: %w", err)
	}
	if h.Length < minLength || h.Size() != int64(len(b)) {
		return h, fmt.Errorf("validate: length field %d for %d bytes: %w", h.Length, len(b), ErrCorrupt)
	}
	if sum := crc32.Checksum(b[attributesOffset:], castagnoli); sum != h.CRC {
		return h, fmt.Errorf("validate: crc %#08x, computed %#08x: %w", h.CRC, sum, ErrCorrupt)
	}
	if err := checkCounts(h, len(b)-HeaderSize); err != nil {
		return h, fmt.Errorf("validate: %w", err)
	}
	return h, nil
}

// checkCounts checks the header fields that describe the records section,
// which is sectionSize bytes long.
func checkCounts(h Header, sectionSize int) error {
	switch {
	case !h.Codec().known():
		return fmt.Errorf("attributes %#04x name an unknown codec: %w", h.Attributes, ErrCorrupt)
	case h.NumRecords < 0:
		return fmt.Errorf("record count %d: %w", h.NumRecords, ErrCorrupt)
	case h.LastOffsetDelta < 0:
		return fmt.Errorf("last offset delta %d: %w", h.LastOffsetDelta, ErrCorrupt)
	case h.NumRecords > 0 && h.LastOffsetDelta < h.NumRecords-1:
		return fmt.Errorf("last offset delta %d for %d records: %w", h.LastOffsetDelta, h.NumRecords, ErrCorrupt)
	case h.Codec() == None && int64(h.NumRecords)*minRecordSize > int64(sectionSize):
		return fmt.Errorf("%d records in %d bytes: %w", h.NumRecords, sectionSize, ErrCorrupt)
	}
	return nil
}
