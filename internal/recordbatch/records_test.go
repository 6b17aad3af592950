package recordbatch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestBuildRecordsRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		header  func(Codec) Header
		records []kmsg.Record
	}{
		{
			name:    "no records",
			header:  func(c Codec) Header { return testHeader(c, 0) },
			records: nil,
		},
		{
			name:    "one record",
			header:  func(c Codec) Header { return testHeader(c, 1) },
			records: []kmsg.Record{record(0, 0, []byte("k"), []byte("v"))},
		},
		{
			name:   "tombstone, empty value and null key",
			header: func(c Codec) Header { return testHeader(c, 3) },
			records: []kmsg.Record{
				record(0, 0, []byte("deleted"), nil),
				record(1, 1, []byte("empty"), []byte{}),
				record(2, 2, nil, []byte("keyless")),
			},
		},
		{
			name:   "headers, including a null header value",
			header: func(c Codec) Header { return testHeader(c, 2) },
			records: []kmsg.Record{
				record(0, 5, []byte("k0"), []byte("v0"),
					kmsg.Header{Key: "trace", Value: []byte("abc")},
					kmsg.Header{Key: "null", Value: nil},
					kmsg.Header{Key: "", Value: []byte{}}),
				record(1, 3, []byte("k1"), []byte("v1")),
			},
		},
		{
			name: "compacted: offset gaps, out-of-order and negative timestamps",
			header: func(c Codec) Header {
				h := testHeader(c, 10)
				h.LastOffsetDelta = 9 // record 9 was removed; the batch keeps its range
				return h
			},
			records: []kmsg.Record{
				record(0, 50, []byte("a"), []byte("1")),
				record(4, -20, []byte("b"), []byte("2")),
				record(7, 1<<40, []byte("c"), nil),
			},
		},
		{
			name:    "many records spanning several compression blocks",
			header:  func(c Codec) Header { return testHeader(c, 3000) },
			records: sequentialRecords(3000),
		},
	}
	for _, c := range codecs {
		for _, tt := range tests {
			t.Run(c.String()+"/"+tt.name, func(t *testing.T) {
				h := tt.header(c)
				b := mustBuild(t, h, tt.records)
				got, err := Validate(b)
				if err != nil {
					t.Fatalf("Validate(Build()): %v", err)
				}
				want := h
				want.Magic, want.NumRecords, want.Length, want.CRC = 2, int32(len(tt.records)), got.Length, got.CRC
				if got != want {
					t.Errorf("header\n got %+v\nwant %+v", got, want)
				}
				if got.Size() != int64(len(b)) {
					t.Errorf("Size() = %d for %d bytes", got.Size(), len(b))
				}
				_, records, err := Records(b, 1<<30)
				if err != nil {
					t.Fatalf("Records: %v", err)
				}
				if err := sameRecords(tt.records, records); err != nil {
					t.Error(err)
				}
				if rebuilt := mustBuild(t, got, records); c == None && !bytes.Equal(rebuilt, b) {
					t.Error("Build(Records()) differs from the uncompressed batch")
				}
			})
		}
	}
}

// TestBuildDoesNotModifyRecords checks that Build leaves its input alone,
// since the caller (compaction) may still use it.
func TestBuildDoesNotModifyRecords(t *testing.T) {
	records := sequentialRecords(3)
	mustBuild(t, testHeader(None, 3), records)
	for i, r := range records {
		if r.Length != 0 {
			t.Errorf("record %d: Length set to %d", i, r.Length)
		}
	}
}

// TestRecordsDoNotAliasBatch checks that the caller may reuse a batch's
// memory after Records.
func TestRecordsDoNotAliasBatch(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.String(), func(t *testing.T) {
			want := sequentialRecords(5)
			b := mustBuild(t, testHeader(c, 5), want)
			_, got, err := Records(b, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			clear(b)
			if err := sameRecords(want, got); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	tests := []struct {
		name    string
		header  Header
		records []kmsg.Record
		want    error
	}{
		{"unknown codec", Header{Attributes: 5}, nil, ErrCorrupt},
		{"negative last offset delta", Header{LastOffsetDelta: -1}, nil, ErrCorrupt},
		{"last offset delta below record count", Header{LastOffsetDelta: 1}, sequentialRecords(3), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Build(tt.header, tt.records); !errors.Is(err, tt.want) {
				t.Errorf("Build: %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRecordsRejects covers batches whose header and CRC are right but whose
// records section is not.
func TestRecordsRejects(t *testing.T) {
	two := recordBytes(t, record(0, 0, []byte("a"), []byte("1")), record(1, 0, []byte("b"), []byte("2")))
	// A record whose length prefix claims one byte more than its fields,
	// with a spare byte at the end to make up the length.
	padded := recordBytes(t, record(0, 0, []byte("a"), []byte("1")))
	padded[0] += 2 // zigzag: +1 in value
	padded = append(padded, 0)
	short := recordBytes(t, record(0, 0, []byte("a"), []byte("1")))
	short[0] -= 2

	tests := []struct {
		name    string
		codec   Codec
		count   int32
		last    int32
		section []byte
		want    error
	}{
		{"fewer records than counted", None, 3, 2, append(bytes.Clone(two), make([]byte, 7)...), ErrCorrupt},
		{"bytes after the records", None, 2, 1, append(bytes.Clone(two), 0), ErrCorrupt},
		{"length prefix longer than the record", None, 1, 0, padded, ErrCorrupt},
		{"length prefix shorter than the record", None, 1, 0, short, ErrCorrupt},
		{"negative length prefix", None, 1, 0, []byte{1, 0, 0, 0, 0, 0, 0}, ErrCorrupt},
		{"negative header count", None, 1, 0, prefixed(0, 0, 0, 1, 1, 1), ErrCorrupt},
		{"null header key", None, 1, 0, prefixed(0, 0, 0, 1, 1, 2, 1, 1), ErrCorrupt},
		{"key length -2", None, 1, 0, prefixed(0, 0, 0, 3, 1, 0), ErrCorrupt},
		{"overlong offset delta", None, 1, 0, prefixed(0, 0, 0x80, 0, 1, 1, 0), ErrCorrupt},
		{"offset deltas out of order", None, 2, 5,
			recordBytes(t, record(3, 0, nil, nil), record(2, 0, nil, nil)), ErrCorrupt},
		{"repeated offset delta", None, 2, 5,
			recordBytes(t, record(3, 0, nil, nil), record(3, 0, nil, nil)), ErrCorrupt},
		{"offset delta past the last", None, 1, 0, recordBytes(t, record(1, 0, nil, nil)), ErrCorrupt},
		{"negative offset delta", None, 1, 0, recordBytes(t, record(-1, 0, nil, nil)), ErrCorrupt},
		{"gzip garbage", Gzip, 1, 0, []byte("not gzip at all"), ErrCorrupt},
		{"snappy garbage", Snappy, 1, 0, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ErrCorrupt},
		{"xerial header cut short", Snappy, 1, 0, []byte(xerialMagic + "\x00\x00"), ErrCorrupt},
		{"xerial chunk cut short", Snappy, 1, 0, xerialSnappy(two)[:xerialHeaderSize+6], ErrCorrupt},
		{"xerial chunk length cut short", Snappy, 1, 0, xerialSnappy(two)[:xerialHeaderSize+2], ErrCorrupt},
		{"lz4 garbage", LZ4, 1, 0, []byte("not an lz4 frame"), ErrCorrupt},
		{"zstd garbage", Zstd, 1, 0, []byte("not a zstd frame"), ErrCorrupt},
		{"compressed count above records", Zstd, 3, 2, zstdBytes(two), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHeader(tt.codec, 0)
			h.NumRecords, h.LastOffsetDelta = tt.count, tt.last
			b := rawBatch(h, tt.section)
			if _, err := Validate(b); err != nil {
				t.Fatalf("Validate: %v; the case should only break the records", err)
			}
			if _, _, err := Records(b, 1<<20); !errors.Is(err, tt.want) {
				t.Errorf("Records: %v, want %v", err, tt.want)
			}
		})
	}
}

// TestSnappyFramings checks that both snappy framings decode: xerial, which
// the Java client writes, and a raw block, which some other clients write.
func TestSnappyFramings(t *testing.T) {
	records := sequentialRecords(2000) // more than one xerial chunk
	raw := recordBytes(t, records...)
	if len(raw) <= xerialChunkSize {
		t.Fatalf("%d bytes of records fit one xerial chunk", len(raw))
	}
	h := testHeader(Snappy, len(records))
	h.NumRecords = int32(len(records))
	tests := []struct {
		name    string
		section []byte
	}{
		{"xerial", xerialSnappy(raw)},
		{"raw block", snappy.Encode(nil, raw)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := rawBatch(h, tt.section)
			_, got, err := Records(b, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameRecords(records, got); err != nil {
				t.Error(err)
			}
		})
	}
}

// prefixed returns the record body with its varint length prefix.
func prefixed(body ...byte) []byte {
	return append(binary.AppendVarint(nil, int64(len(body))), body...)
}
