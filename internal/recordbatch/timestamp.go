package recordbatch

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetForTimestamp returns the offset of the first record of batch b, in
// offset order, whose timestamp (Header.TimestampOf) is at least ts, and false
// if there is none. Like Kafka, it trusts the header: a batch whose
// MaxTimestamp is below ts is skipped without decompressing it. limit bounds
// decompression as in Records. This answers ListOffsets for a timestamp.
func OffsetForTimestamp(b []byte, ts int64, limit int) (int64, bool, error) {
	h, err := Validate(b)
	if err != nil {
		return 0, false, fmt.Errorf("offset for timestamp: %w", err)
	}
	if h.MaxTimestamp < ts || h.NumRecords == 0 {
		return 0, false, nil
	}
	h, records, err := Records(b, limit)
	if err != nil {
		return 0, false, fmt.Errorf("offset for timestamp: %w", err)
	}
	for i := range records {
		if h.TimestampOf(&records[i]) >= ts {
			return h.OffsetOf(&records[i]), true, nil
		}
	}
	return 0, false, nil
}

// OffsetOfMaxTimestamp returns the offset of the first record of batch b
// carrying the batch's MaxTimestamp, which answers ListOffsets for
// MAX_TIMESTAMP (KIP-734). In a LogAppendTime batch that is the first record.
// Should no record carry MaxTimestamp (a header Kafka would not write), it
// returns the first record with the largest timestamp. It returns ErrEmpty for
// a batch without records; limit bounds decompression as in Records.
func OffsetOfMaxTimestamp(b []byte, limit int) (int64, error) {
	h, records, err := Records(b, limit)
	if err != nil {
		return 0, fmt.Errorf("offset of max timestamp: %w", err)
	}
	if len(records) == 0 {
		return 0, fmt.Errorf("offset of max timestamp: %w", ErrEmpty)
	}
	for i := range records {
		if h.TimestampOf(&records[i]) == h.MaxTimestamp {
			return h.OffsetOf(&records[i]), nil
		}
	}
	return h.OffsetOf(firstWithLargestTimestamp(h, records)), nil
}

// firstWithLargestTimestamp returns the earliest of the records with the
// largest timestamp. REQUIRES: len(records) > 0.
func firstWithLargestTimestamp(h Header, records []kmsg.Record) *kmsg.Record {
	best := &records[0]
	for i := range records {
		if h.TimestampOf(&records[i]) > h.TimestampOf(best) {
			best = &records[i]
		}
	}
	return best
}
