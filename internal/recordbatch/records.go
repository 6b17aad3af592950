package recordbatch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Records validates batch b (see Validate), decompresses its records section
// and decodes every record. limit bounds the size of the records section
// after decompression (for an uncompressed batch, its size as is); a larger
// one gives ErrTooLarge, having allocated no more than about twice limit.
// The decoded records take memory proportional to that size.
//
// The section must hold exactly NumRecords records, each exactly as long as
// its length prefix says and in canonical form (encoding the decoded record
// gives back its bytes: no overlong varints, no negative header count or null
// header key), with offset deltas strictly increasing within
// [0, LastOffsetDelta]; anything else is ErrCorrupt. Hence Build, given the
// header and records that Records returns, reproduces an uncompressed batch
// byte for byte.
//
// The returned records never alias b, so the caller may reuse b: their keys,
// values and header values share one buffer allocated by this call.
func Records(b []byte, limit int) (Header, []kmsg.Record, error) {
	h, err := Validate(b)
	if err != nil {
		return h, nil, fmt.Errorf("records: %w", err)
	}
	section := b[HeaderSize:]
	if h.NumRecords == 0 && len(section) == 0 {
		return h, nil, nil
	}
	data, err := decompress(h.Codec(), section, limit)
	if err != nil {
		return h, nil, fmt.Errorf("records: %w", err)
	}
	records, err := decodeRecords(h, data)
	if err != nil {
		return h, nil, fmt.Errorf("records: %w", err)
	}
	return h, records, nil
}

// decodeRecords decodes the h.NumRecords records that must fill data.
func decodeRecords(h Header, data []byte) ([]kmsg.Record, error) {
	if int64(h.NumRecords)*minRecordSize > int64(len(data)) {
		return nil, fmt.Errorf("%d records in %d bytes: %w", h.NumRecords, len(data), ErrCorrupt)
	}
	records := make([]kmsg.Record, h.NumRecords)
	var scratch []byte
	for i := range records {
		end, err := recordEnd(data)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		r := &records[i]
		if err := r.ReadFrom(data[:end]); err != nil {
			return nil, fmt.Errorf("record %d: %w: %w", i, ErrCorrupt, err)
		}
		// kmsg neither checks that a record fills its length prefix nor
		// rejects what Kafka rejects (a negative header count, a null
		// header key) or what it would not write (key or value lengths
		// below -1, overlong varints): it reads them as something else.
		// Requiring that the record re-encodes to its own bytes catches
		// all of these.
		scratch = r.AppendTo(scratch[:0])
		if !bytes.Equal(scratch, data[:end]) {
			return nil, fmt.Errorf("record %d: not in canonical form: %w", i, ErrCorrupt)
		}
		if err := checkOffsetDelta(h, records[:i], r); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		data = data[end:]
	}
	if len(data) != 0 {
		return nil, fmt.Errorf("%d bytes after %d records: %w", len(data), h.NumRecords, ErrCorrupt)
	}
	return records, nil
}

// recordEnd returns the length of the record at the start of data, its
// length prefix included.
func recordEnd(data []byte) (int, error) {
	length, n := binary.Varint(data) // Kafka's varint is a zigzag varint
	if n <= 0 || length < 0 || length > math.MaxInt32 {
		return 0, fmt.Errorf("bad length prefix: %w", ErrCorrupt)
	}
	if length == 0 || length > int64(len(data)-n) {
		return 0, fmt.Errorf("length %d with %d bytes left: %w", length, len(data)-n, ErrCorrupt)
	}
	return n + int(length), nil
}

// checkOffsetDelta checks that r's offset delta follows those of the records
// before it and lies within the batch.
func checkOffsetDelta(h Header, before []kmsg.Record, r *kmsg.Record) error {
	floor := int32(0)
	if len(before) > 0 {
		floor = before[len(before)-1].OffsetDelta + 1
	}
	if r.OffsetDelta < floor || r.OffsetDelta > h.LastOffsetDelta {
		return fmt.Errorf("offset delta %d outside [%d, %d]: %w", r.OffsetDelta, floor, h.LastOffsetDelta, ErrCorrupt)
	}
	return nil
}
