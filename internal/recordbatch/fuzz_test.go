package recordbatch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// fuzzLimit bounds decompression in the fuzzers.
const fuzzLimit = 1 << 20

var writeSeeds = flag.Bool("write-seeds", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// seedBatches returns real batches of every codec: what the checked-in seed
// corpora hold.
func seedBatches(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for _, c := range codecs {
		records := []kmsg.Record{
			record(0, 0, []byte("key"), []byte("value"), kmsg.Header{Key: "h", Value: []byte("v")}),
			record(2, -5, nil, nil),
			record(3, 7, []byte("k"), []byte{}),
		}
		h := testHeader(c, 4)
		seeds["batch-"+c.String()] = mustBuild(t, h, records)
		seeds["empty-"+c.String()] = mustBuild(t, testHeader(c, 0), nil)
	}
	return seeds
}

// TestFuzzSeeds checks the checked-in seed corpora, or rewrites them with
// -write-seeds.
func TestFuzzSeeds(t *testing.T) {
	fuzzers := []string{"FuzzValidate", "FuzzRecords", "FuzzSplit"}
	seeds := seedBatches(t)
	if *writeSeeds {
		for _, fuzzer := range fuzzers {
			dir := filepath.Join("testdata", "fuzz", fuzzer)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, b := range seeds {
				if fuzzer == "FuzzSplit" {
					b = bytes.Repeat(b, 2)
				}
				file := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
				if err := os.WriteFile(filepath.Join(dir, name), []byte(file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, fuzzer := range fuzzers {
		for name := range seeds {
			if _, err := os.Stat(filepath.Join("testdata", "fuzz", fuzzer, name)); err != nil {
				t.Errorf("seed missing (run go test -run TestFuzzSeeds -write-seeds): %v", err)
			}
		}
	}
}

// addSeeds adds the seed batches to f's corpus, each passed through seed.
func addSeeds(f *testing.F, seed func([]byte) []byte) {
	for _, b := range seedBatches(f) {
		f.Add(seed(b))
	}
}

func FuzzValidate(f *testing.F) {
	addSeeds(f, func(b []byte) []byte { return b })
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Validate(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrMagic) {
				t.Fatalf("Validate: untyped error %v", err)
			}
			return
		}
		batches, err := Split(b)
		if err != nil || len(batches) != 1 || len(batches[0]) != len(b) {
			t.Fatalf("Split of a valid batch: %d batches, %v", len(batches), err)
		}
		if read, err := ReadHeader(b); err != nil || read != h {
			t.Fatalf("ReadHeader = %+v, %v; Validate gave %+v", read, err, h)
		}
	})
}

// FuzzRecords fixes up the length field and CRC of its input before decoding
// it, so that mutations get past Validate into decompression and record
// decoding. For any batch Records accepts, rebuilding it from its records
// must give a valid batch with the same records.
func FuzzRecords(f *testing.F) {
	addSeeds(f, func(b []byte) []byte { return b })
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= HeaderSize {
			binary.BigEndian.PutUint32(b[lengthOffset:], uint32(len(b)-lengthFieldEnd))
			putCRC(b)
		}
		h, records, err := Records(b, fuzzLimit)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrMagic) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Records: untyped error %v", err)
			}
			return
		}
		rebuilt, err := Build(h, records)
		if err != nil {
			t.Fatalf("Build(Records()): %v", err)
		}
		if _, err := Validate(rebuilt); err != nil {
			t.Fatalf("Validate(Build(Records())): %v", err)
		}
		if h.Codec() == None && !bytes.Equal(rebuilt, b) {
			t.Fatalf("Build(Records()) differs from the uncompressed batch")
		}
		_, again, err := Records(rebuilt, 2*fuzzLimit)
		if err != nil {
			t.Fatalf("Records(Build(Records())): %v", err)
		}
		if err := sameRecords(records, again); err != nil {
			t.Fatalf("records changed through Build: %v", err)
		}
		if _, _, err := OffsetForTimestamp(b, h.BaseTimestamp, fuzzLimit); err != nil {
			t.Fatalf("OffsetForTimestamp of a batch Records accepts: %v", err)
		}
		if _, err := OffsetOfMaxTimestamp(b, fuzzLimit); err != nil && !errors.Is(err, ErrEmpty) {
			t.Fatalf("OffsetOfMaxTimestamp of a batch Records accepts: %v", err)
		}
	})
}

func FuzzSplit(f *testing.F) {
	addSeeds(f, func(b []byte) []byte { return bytes.Repeat(b, 2) })
	f.Fuzz(func(t *testing.T, b []byte) {
		batches, err := Split(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrMagic) {
				t.Fatalf("Split: untyped error %v", err)
			}
			return
		}
		if joined := bytes.Join(batches, nil); !bytes.Equal(joined, b) {
			t.Fatalf("%d batches do not add up to the input", len(batches))
		}
		for i, batch := range batches {
			if h, err := ReadHeader(batch); err != nil || h.Size() != int64(len(batch)) {
				t.Fatalf("batch %d: %d bytes, header %+v, %v", i, len(batch), h, err)
			}
		}
	})
}
