package recordbatch

import (
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Build encodes a batch of records under header template h. It takes
// BaseOffset, PartitionLeaderEpoch, Attributes (whose codec it compresses
// with), LastOffsetDelta, BaseTimestamp, MaxTimestamp, ProducerID,
// ProducerEpoch and BaseSequence from h exactly as given, and each record's
// attributes, offset delta, timestamp delta, key, value and headers as given:
// the caller decides them. That is what log compaction needs, since Kafka's
// cleaner rewrites a batch with fewer records but its original base offset,
// last offset delta and producer fields, and the surviving records keep their
// deltas. Build sets Magic to 2, NumRecords to len(records), and computes each
// record's length prefix, the batch Length and the CRC; it ignores those
// fields of h and of the records, and does not modify records.
//
// It returns ErrCorrupt for an unknown codec or a LastOffsetDelta that is
// negative or smaller than len(records)-1 (Validate would reject the batch),
// and ErrTooLarge for a batch over 2 GiB.
func Build(h Header, records []kmsg.Record) ([]byte, error) {
	if err := checkTemplate(h, len(records)); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	raw, err := appendRecords(nil, records)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	section, err := compress(h.Codec(), raw)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if len(section) > math.MaxInt32-minLength {
		return nil, fmt.Errorf("build: records section of %d bytes: %w", len(section), ErrTooLarge)
	}
	h.Magic = magicV2
	h.NumRecords = int32(len(records))
	h.Length = int32(minLength + len(section))
	h.CRC = 0
	rb := h.recordBatch(section)
	out := rb.AppendTo(make([]byte, 0, HeaderSize+len(section)))
	putCRC(out)
	return out, nil
}

// checkTemplate checks the header fields Build takes as given against the
// number of records it will hold.
func checkTemplate(h Header, numRecords int) error {
	switch {
	case !h.Codec().known():
		return fmt.Errorf("attributes %#04x name an unknown codec: %w", h.Attributes, ErrCorrupt)
	case numRecords > math.MaxInt32:
		return fmt.Errorf("%d records: %w", numRecords, ErrTooLarge)
	case h.LastOffsetDelta < 0 || int64(h.LastOffsetDelta) < int64(numRecords)-1:
		return fmt.Errorf("last offset delta %d for %d records: %w", h.LastOffsetDelta, numRecords, ErrCorrupt)
	}
	return nil
}

// appendRecords appends the encoding of each record, with its length prefix
// computed, to dst.
func appendRecords(dst []byte, records []kmsg.Record) ([]byte, error) {
	var scratch []byte
	for i := range records {
		r := records[i] // a copy: the caller's records stay as they are
		// kmsg writes Length as given. Measure the record with a zero
		// Length, which encodes as one byte, then write it for real.
		r.Length = 0
		scratch = r.AppendTo(scratch[:0])
		if len(scratch)-1 > math.MaxInt32 {
			return nil, fmt.Errorf("record %d of %d bytes: %w", i, len(scratch)-1, ErrTooLarge)
		}
		r.Length = int32(len(scratch) - 1)
		dst = r.AppendTo(dst)
	}
	return dst, nil
}
