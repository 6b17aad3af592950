package recordbatch

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/snappy"
)

// Kafka's Java client writes snappy in the framing of xerial's
// SnappyOutputStream, not as one raw block:
//
//	magic   8 bytes "\x82SNAPPY\x00"
//	version 4 bytes big-endian, 1
//	compat  4 bytes big-endian, 1 (oldest reader version that can read it)
//	chunks  repeated: 4-byte big-endian length, then a raw snappy block
//
// Other clients (librdkafka, franz-go) may write a single raw block. unsnappy
// reads both; xerialSnappy writes the xerial framing, which every client
// reads.
const (
	xerialMagic      = "\x82SNAPPY\x00"
	xerialHeaderSize = len(xerialMagic) + 8
	xerialVersion    = 1
	xerialCompat     = 1
	// xerialChunkSize is how much input goes into each chunk, xerial's
	// default block size.
	xerialChunkSize = 32 << 10
)

// unsnappy decompresses a records section in xerial framing or as a raw
// snappy block, of at most limit bytes.
func unsnappy(src []byte, limit int) ([]byte, error) {
	if !bytes.HasPrefix(src, []byte(xerialMagic)) {
		return appendSnappyBlock(nil, src, limit)
	}
	if len(src) < xerialHeaderSize {
		return nil, fmt.Errorf("xerial header of %d bytes: %w", len(src), ErrCorrupt)
	}
	var out []byte
	for rest := src[xerialHeaderSize:]; len(rest) > 0; {
		if len(rest) < 4 {
			return nil, fmt.Errorf("xerial chunk length in %d bytes: %w", len(rest), ErrCorrupt)
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return nil, fmt.Errorf("xerial chunk of %d bytes with %d left: %w", n, len(rest), ErrCorrupt)
		}
		var err error
		if out, err = appendSnappyBlock(out, rest[:n], limit); err != nil {
			return nil, err
		}
		rest = rest[n:]
	}
	return out, nil
}

// appendSnappyBlock decodes the raw snappy block and appends it to dst,
// provided dst stays within limit bytes. Only standard snappy is accepted,
// not the s2 extensions that Java consumers could not read.
func appendSnappyBlock(dst, block []byte, limit int) ([]byte, error) {
	n, err := snappy.DecodedLen(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if n > limit-len(dst) {
		return nil, fmt.Errorf("more than %d bytes: %w", limit, ErrTooLarge)
	}
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	decoded, err := snappy.DecodeStrict(dst[start:], block)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if len(decoded) != n {
		return nil, fmt.Errorf("snappy block decoded to %d bytes, header says %d: %w", len(decoded), n, ErrCorrupt)
	}
	return dst, nil
}

// xerialSnappy compresses src in xerial framing.
func xerialSnappy(src []byte) []byte {
	out := make([]byte, 0, xerialHeaderSize+snappy.MaxEncodedLen(min(len(src), xerialChunkSize))*(len(src)/xerialChunkSize+1))
	out = append(out, xerialMagic...)
	out = binary.BigEndian.AppendUint32(out, xerialVersion)
	out = binary.BigEndian.AppendUint32(out, xerialCompat)
	for len(src) > 0 {
		chunk := src[:min(len(src), xerialChunkSize)]
		src = src[len(chunk):]
		block := snappy.Encode(nil, chunk)
		out = binary.BigEndian.AppendUint32(out, uint32(len(block)))
		out = append(out, block...)
	}
	return out
}
