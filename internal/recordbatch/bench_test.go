package recordbatch

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkValidate measures Validate on a 16 KiB batch, which is dominated
// by the CRC-32C.
func BenchmarkValidate(b *testing.B) {
	records := make([]kmsg.Record, 16)
	for i := range records {
		records[i] = record(int32(i), int64(i), nil, bytes.Repeat([]byte{byte(i)}, 1024))
	}
	batch := mustBuild(b, testHeader(None, len(records)), records)
	if len(batch) < 16<<10 || len(batch) > 17<<10 {
		b.Fatalf("batch of %d bytes, want about 16 KiB", len(batch))
	}
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		if _, err := Validate(batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecords measures decoding the records of 16 KiB batches.
func BenchmarkRecords(b *testing.B) {
	records := sequentialRecords(400)
	for _, c := range codecs {
		b.Run(c.String(), func(b *testing.B) {
			batch := mustBuild(b, testHeader(c, len(records)), records)
			b.SetBytes(int64(len(recordBytes(b, records...))))
			for b.Loop() {
				if _, _, err := Records(batch, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
