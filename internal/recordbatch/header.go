package recordbatch

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// HeaderSize is the size of a batch's fixed header, everything before the
// records section.
const HeaderSize = 61

// Byte offsets of the header fields written in place, and the sizes derived
// from them. These are part of the wire format; see the package comment.
const (
	baseOffsetOffset   = 0
	lengthOffset       = 8
	leaderEpochOffset  = 12
	magicOffset        = 16
	crcOffset          = 17
	attributesOffset   = 21
	maxTimestampOffset = 35

	// lengthFieldEnd is where the bytes counted by batchLength start.
	lengthFieldEnd = 12
	// minLength is the smallest batchLength: a header with no records.
	minLength = HeaderSize - lengthFieldEnd

	// magicV2 is the only message format Weir stores.
	magicV2 = 2
)

// Attribute bits.
const (
	codecMask            = 0x07
	logAppendTimeFlag    = 0x08
	transactionalFlag    = 0x10
	controlFlag          = 0x20
	deleteHorizonSetFlag = 0x40
)

// Header is the decoded fixed part of a batch.
type Header struct {
	BaseOffset           int64
	Length               int32 // bytes after the Length field: the batch is 12+Length bytes
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Codec returns the compression codec of the records section.
func (h Header) Codec() Codec { return Codec(h.Attributes & codecMask) }

// LogAppendTime reports whether the batch's timestamps were set by the broker
// (every record's timestamp is then MaxTimestamp).
func (h Header) LogAppendTime() bool { return h.Attributes&logAppendTimeFlag != 0 }

// Transactional reports whether the batch belongs to a transaction.
func (h Header) Transactional() bool { return h.Attributes&transactionalFlag != 0 }

// Control reports whether the batch holds a control record (a transaction
// marker) rather than user records.
func (h Header) Control() bool { return h.Attributes&controlFlag != 0 }

// DeleteHorizonSet reports whether BaseTimestamp holds the time after which
// compaction may drop the batch's tombstones and aborted-transaction markers
// (KIP-534) rather than the first record's timestamp.
func (h Header) DeleteHorizonSet() bool { return h.Attributes&deleteHorizonSetFlag != 0 }

// LastOffset returns the offset of the batch's last record: BaseOffset +
// LastOffsetDelta. It holds even when compaction removed that record.
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Size returns the number of bytes the whole batch occupies, 12+Length.
func (h Header) Size() int64 { return lengthFieldEnd + int64(h.Length) }

// OffsetOf returns the offset of record r of this batch.
func (h Header) OffsetOf(r *kmsg.Record) int64 { return h.BaseOffset + int64(r.OffsetDelta) }

// TimestampOf returns the timestamp of record r of this batch: MaxTimestamp
// for LogAppendTime batches, otherwise BaseTimestamp + TimestampDelta64.
func (h Header) TimestampOf(r *kmsg.Record) int64 {
	if h.LogAppendTime() {
		return h.MaxTimestamp
	}
	return h.BaseTimestamp + r.TimestampDelta64
}

// ReadHeader decodes the header of the first batch in b without checking the
// CRC or the length field; b may hold more bytes than one batch, or only the
// header. It returns ErrMagic if b holds a message in another format (whose
// fields after the magic byte mean something else), and ErrCorrupt if b is
// shorter than HeaderSize.
func ReadHeader(b []byte) (Header, error) {
	if len(b) > magicOffset && b[magicOffset] != magicV2 {
		return Header{}, fmt.Errorf("read header: magic %d: %w", int8(b[magicOffset]), ErrMagic)
	}
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("read header: %d bytes, want at least %d: %w", len(b), HeaderSize, ErrCorrupt)
	}
	// kmsg decodes whole batches. Hand it a copy of the header whose length
	// field claims an empty records section, then restore the real length.
	var fixed [HeaderSize]byte
	copy(fixed[:], b)
	binary.BigEndian.PutUint32(fixed[lengthOffset:], minLength)
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(fixed[:]); err != nil {
		return Header{}, fmt.Errorf("read header: %w: %w", ErrCorrupt, err)
	}
	h := headerOf(&rb)
	h.Length = int32(binary.BigEndian.Uint32(b[lengthOffset:]))
	return h, nil
}

// headerOf returns the fixed fields of a decoded batch.
func headerOf(rb *kmsg.RecordBatch) Header {
	return Header{
		BaseOffset:           rb.FirstOffset,
		Length:               rb.Length,
		PartitionLeaderEpoch: rb.PartitionLeaderEpoch,
		Magic:                rb.Magic,
		CRC:                  uint32(rb.CRC),
		Attributes:           rb.Attributes,
		LastOffsetDelta:      rb.LastOffsetDelta,
		BaseTimestamp:        rb.FirstTimestamp,
		MaxTimestamp:         rb.MaxTimestamp,
		ProducerID:           rb.ProducerID,
		ProducerEpoch:        rb.ProducerEpoch,
		BaseSequence:         rb.FirstSequence,
		NumRecords:           rb.NumRecords,
	}
}

// recordBatch returns h as a kmsg batch around the given records section.
func (h Header) recordBatch(records []byte) kmsg.RecordBatch {
	return kmsg.RecordBatch{
		FirstOffset:          h.BaseOffset,
		Length:               h.Length,
		PartitionLeaderEpoch: h.PartitionLeaderEpoch,
		Magic:                h.Magic,
		CRC:                  int32(h.CRC),
		Attributes:           h.Attributes,
		LastOffsetDelta:      h.LastOffsetDelta,
		FirstTimestamp:       h.BaseTimestamp,
		MaxTimestamp:         h.MaxTimestamp,
		ProducerID:           h.ProducerID,
		ProducerEpoch:        h.ProducerEpoch,
		FirstSequence:        h.BaseSequence,
		NumRecords:           h.NumRecords,
		Records:              records,
	}
}
