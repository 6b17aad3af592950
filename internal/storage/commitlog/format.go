// Package commitlog is Weir's node-wide, append-only log: every partition's
// record batches, and the control entries that change a partition's state,
// are entries in one sequence of segment files. Appends are sequential
// writes to one file whatever the number of partitions; durability is a
// group commit (see sync.go); recovery scans the tail after a checkpoint and
// truncates what a crash tore (see scan.go).
//
// # On-disk format (version 1)
//
// These constants are part of the on-disk format; docs/storage.md describes
// the same bytes.
//
// The log lives in one directory. Every position in the log is a uint64 byte
// address that only grows over the node's life. A segment file is named after
// the position of its first byte, in 20 decimal digits with the suffix
// ".log" (00000000000134217728.log). The segment that follows starts where
// the previous one's written data ends, so a position names one byte of one
// file.
//
// A segment starts with a 32-byte header, all integers big-endian:
//
//	0   8 bytes  magic "WEIRLOG\x00"
//	8   uint32   format version (1)
//	12  uint32   reserved, zero
//	16  uint64   base position (must equal the number in the file name)
//	24  uint32   CRC-32C (Castagnoli) of bytes 0..24
//	28  uint32   reserved, zero
//
// Entries follow back to back, never split across segments:
//
//	0   uint32   body length: bytes from offset 8 to the end of the entry (>= 12)
//	4   uint32   CRC-32C (Castagnoli) of the body
//	8   uint8    kind (see Kind)
//	9   uint8    flags, zero in version 1
//	10  uint16   reserved, zero
//	12  uint64   partition id (0 for entries that name no partition)
//	20  payload  body length - 12 bytes
//
// A length word of zero, or bytes that do not form a valid entry, end the
// written data of a segment. What the payload of each kind holds is defined
// by the storage engine that writes it (internal/storage/entries.go).
package commitlog

import (
	"encoding/binary"
	"hash/crc32"
)

// Format constants. They are part of the on-disk format.
const (
	// Version is the format version written in segment headers.
	Version = 1
	// SegmentHeaderSize is the size of a segment's header.
	SegmentHeaderSize = 32
	// EntryHeaderSize is the size of an entry's header.
	EntryHeaderSize = 20
	// entryBodyHeader is the part of the entry header covered by the CRC.
	entryBodyHeader = EntryHeaderSize - 8
	// MaxPayload bounds one entry's payload, so that a damaged length word
	// cannot make a reader allocate without limit.
	MaxPayload = 1 << 30
)

var segmentMagic = [8]byte{'W', 'E', 'I', 'R', 'L', 'O', 'G', 0}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Kind says what an entry's payload holds. The values are part of the
// on-disk format; the storage engine defines their meaning.
type Kind uint8

// putEntryHeader writes into dst[:EntryHeaderSize] the header of an entry
// whose payload is the concatenation of parts.
func putEntryHeader(dst []byte, kind Kind, partition uint64, parts ...[]byte) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	binary.BigEndian.PutUint32(dst[0:4], uint32(entryBodyHeader+n))
	dst[8] = byte(kind)
	dst[9] = 0
	dst[10], dst[11] = 0, 0
	binary.BigEndian.PutUint64(dst[12:20], partition)
	crc := crc32.Update(0, castagnoli, dst[8:20])
	for _, p := range parts {
		crc = crc32.Update(crc, castagnoli, p)
	}
	binary.BigEndian.PutUint32(dst[4:8], crc)
}

// EntrySize returns the bytes an entry with a payload of n bytes takes.
func EntrySize(n int) int { return EntryHeaderSize + n }

func encodeSegmentHeader(base uint64) []byte {
	h := make([]byte, SegmentHeaderSize)
	copy(h[0:8], segmentMagic[:])
	binary.BigEndian.PutUint32(h[8:12], Version)
	binary.BigEndian.PutUint64(h[16:24], base)
	binary.BigEndian.PutUint32(h[24:28], crc32.Checksum(h[0:24], castagnoli))
	return h
}
