package recordbatch

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// codecs lists every codec, for tests that run once per codec.
var codecs = []Codec{None, Gzip, Snappy, LZ4, Zstd}

// testHeader returns a header template like one an idempotent producer
// writes, for n records compressed with codec c.
func testHeader(c Codec, n int) Header {
	return Header{
		BaseOffset:           1000,
		PartitionLeaderEpoch: 7,
		Attributes:           int16(c),
		LastOffsetDelta:      int32(max(n-1, 0)),
		BaseTimestamp:        1_700_000_000_000,
		MaxTimestamp:         1_700_000_000_000 + int64(n),
		ProducerID:           42,
		ProducerEpoch:        3,
		BaseSequence:         100,
	}
}

// record returns a record with the given deltas, key and value.
func record(offsetDelta int32, timestampDelta int64, key, value []byte, headers ...kmsg.Header) kmsg.Record {
	return kmsg.Record{
		OffsetDelta:      offsetDelta,
		TimestampDelta64: timestampDelta,
		Key:              key,
		Value:            value,
		Headers:          headers,
	}
}

// sequentialRecords returns n records with offset and timestamp deltas 0..n-1
// and distinct keys and values.
func sequentialRecords(n int) []kmsg.Record {
	records := make([]kmsg.Record, n)
	for i := range records {
		records[i] = record(int32(i), int64(i),
			fmt.Appendf(nil, "key-%d", i),
			bytes.Repeat(fmt.Appendf(nil, "value-%d;", i), 1+i%5))
	}
	return records
}

// mustBuild builds a batch or fails the test.
func mustBuild(t testing.TB, h Header, records []kmsg.Record) []byte {
	t.Helper()
	b, err := Build(h, records)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return b
}

// rawBatch returns a batch with header h around an arbitrary records section,
// with Magic, Length and CRC made right, so that only what the test breaks on
// purpose is wrong.
func rawBatch(h Header, section []byte) []byte {
	h.Magic = magicV2
	h.Length = int32(minLength + len(section))
	rb := h.recordBatch(section)
	b := rb.AppendTo(nil)
	putCRC(b)
	return b
}

// recordBytes encodes records with their length prefixes, uncompressed.
func recordBytes(t testing.TB, records ...kmsg.Record) []byte {
	t.Helper()
	b, err := appendRecords(nil, records)
	if err != nil {
		t.Fatalf("appendRecords: %v", err)
	}
	return b
}

// sameRecords reports the first difference between the records Build was
// given and those Records decoded, comparing what the wire carries (and
// nil-ness of keys, values and header values) and ignoring Length.
func sameRecords(want, got []kmsg.Record) error {
	if len(want) != len(got) {
		return fmt.Errorf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := &want[i], &got[i]
		switch {
		case w.Attributes != g.Attributes:
			return fmt.Errorf("record %d: attributes %d, want %d", i, g.Attributes, w.Attributes)
		case w.OffsetDelta != g.OffsetDelta:
			return fmt.Errorf("record %d: offset delta %d, want %d", i, g.OffsetDelta, w.OffsetDelta)
		case w.TimestampDelta64 != g.TimestampDelta64:
			return fmt.Errorf("record %d: timestamp delta %d, want %d", i, g.TimestampDelta64, w.TimestampDelta64)
		case !sameBytes(w.Key, g.Key):
			return fmt.Errorf("record %d: key %q, want %q", i, g.Key, w.Key)
		case !sameBytes(w.Value, g.Value):
			return fmt.Errorf("record %d: value %q (nil %t), want %q (nil %t)", i, g.Value, g.Value == nil, w.Value, w.Value == nil)
		case len(w.Headers) != len(g.Headers):
			return fmt.Errorf("record %d: %d headers, want %d", i, len(g.Headers), len(w.Headers))
		}
		for j := range w.Headers {
			if w.Headers[j].Key != g.Headers[j].Key || !sameBytes(w.Headers[j].Value, g.Headers[j].Value) {
				return fmt.Errorf("record %d: header %d is %q=%q, want %q=%q", i, j,
					g.Headers[j].Key, g.Headers[j].Value, w.Headers[j].Key, w.Headers[j].Value)
			}
		}
	}
	return nil
}

// sameBytes compares byte slices, telling nil from empty.
func sameBytes(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}
