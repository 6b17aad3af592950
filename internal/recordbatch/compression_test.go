package recordbatch

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

// TestRecordsLimit checks that the limit is on the decompressed records
// section and is inclusive.
func TestRecordsLimit(t *testing.T) {
	records := sequentialRecords(500)
	size := len(recordBytes(t, records...))
	for _, c := range codecs {
		b := mustBuild(t, testHeader(c, len(records)), records)
		tests := []struct {
			limit int
			want  error
		}{
			{size, nil},
			{size - 1, ErrTooLarge},
			{0, ErrTooLarge},
			{-1, ErrTooLarge},
			{math.MaxInt, nil},
		}
		for _, tt := range tests {
			if _, _, err := Records(b, tt.limit); !errors.Is(err, tt.want) {
				t.Errorf("%s: Records(limit %d) of %d bytes: %v, want %v", c, tt.limit, size, err, tt.want)
			}
		}
	}
}

// TestDecompressionBomb checks that a small batch that decompresses to far
// more than the limit is refused without allocating anywhere near its
// decompressed size.
func TestDecompressionBomb(t *testing.T) {
	const (
		bombSize = 64 << 20
		limit    = 1 << 20
		// maxAlloc is what decompressing up to the limit may cost: buffers
		// growing past the limit, codec state and block buffers.
		maxAlloc = 8 * limit
	)
	zeros := make([]byte, bombSize)
	tests := []struct {
		name    string
		codec   Codec
		section func() []byte
	}{
		{"gzip", Gzip, func() []byte { return mustCompress(t, Gzip, zeros) }},
		{"snappy xerial", Snappy, func() []byte { return mustCompress(t, Snappy, zeros) }},
		{"snappy raw", Snappy, func() []byte { return snappy.Encode(nil, zeros) }},
		{"lz4", LZ4, func() []byte { return mustCompress(t, LZ4, zeros) }},
		{"zstd", Zstd, func() []byte { return mustCompress(t, Zstd, zeros) }},
		{"zstd without size", Zstd, func() []byte { return zstdStream(t, zeros) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHeader(tt.codec, 1)
			h.NumRecords = 1
			b := rawBatch(h, tt.section())
			if len(b) > bombSize/16 {
				t.Fatalf("bomb of %d bytes is not much of a bomb", len(b))
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, err := Records(b, limit)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("Records: %v, want %v", err, ErrTooLarge)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxAlloc {
				t.Errorf("allocated %d bytes to refuse a %d-byte batch at limit %d", alloc, len(b), limit)
			}
		})
	}
}

func mustCompress(t *testing.T, c Codec, src []byte) []byte {
	t.Helper()
	out, err := compress(c, src)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// zstdStream compresses src with a streaming encoder, whose frame does not
// declare its content size, so the decoder cannot size its output up front.
func zstdStream(t *testing.T, src []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for chunk := range slices.Chunk(src, 1<<16) {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var header zstd.Header
	if err := header.Decode(buf.Bytes()); err != nil || header.HasFCS {
		t.Fatalf("frame header %+v, %v: want no content size", header, err)
	}
	return buf.Bytes()
}
