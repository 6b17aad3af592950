package storage

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
)

// testOptions returns options for a test engine in dir: no background
// cleaner, quiet logs.
func testOptions(dir string) Options {
	return Options{
		Dir:             dir,
		CleanerInterval: -1,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func openTest(t testing.TB, opts Options) *Engine {
	t.Helper()
	e, err := Open(opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return e
}

// rec is a record to put in a test batch.
type rec struct {
	key, value []byte
	ts         int64
}

// makeBatch builds a v2 batch of records with the given codec.
func makeBatch(t testing.TB, codec recordbatch.Codec, records ...rec) []byte {
	t.Helper()
	if len(records) == 0 {
		t.Fatal("makeBatch: no records")
	}
	base := records[0].ts
	maxTs := base
	var rs []kmsg.Record
	for i, r := range records {
		maxTs = max(maxTs, r.ts)
		kr := kmsg.NewRecord()
		kr.Key, kr.Value = r.key, r.value
		kr.OffsetDelta = int32(i)
		kr.TimestampDelta64 = r.ts - base
		rs = append(rs, kr)
	}
	h := recordbatch.Header{
		PartitionLeaderEpoch: -1, Magic: 2, Attributes: int16(codec),
		LastOffsetDelta: int32(len(records) - 1), BaseTimestamp: base, MaxTimestamp: maxTs,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
	}
	b, err := recordbatch.Build(h, rs)
	if err != nil {
		t.Fatalf("build batch: %v", err)
	}
	return b
}

// valueBatch builds an uncompressed batch of n records with values
// "prefix-i" and timestamps ts, ts+1, ...
func valueBatch(t testing.TB, prefix string, n int, ts int64) []byte {
	var rs []rec
	for i := range n {
		rs = append(rs, rec{key: []byte(fmt.Sprintf("k%d", i)), value: []byte(fmt.Sprintf("%s-%d", prefix, i)), ts: ts + int64(i)})
	}
	return makeBatch(t, recordbatch.None, rs...)
}

// readAll reads every record of a partition from offset, as
// (offset, key, value) triples.
func readAll(t testing.TB, p *Partition, from int64) []readRecord {
	t.Helper()
	var out []readRecord
	offset := from
	for {
		r, err := p.Read(offset, 1<<20)
		if err != nil {
			t.Fatalf("read at %d: %v", offset, err)
		}
		if len(r.Records) == 0 {
			return out
		}
		batches, err := recordbatch.Split(r.Records)
		if err != nil {
			t.Fatalf("split: %v", err)
		}
		for _, b := range batches {
			h, records, err := recordbatch.Records(b, 1<<30)
			if err != nil {
				t.Fatalf("records: %v", err)
			}
			for _, kr := range records {
				o := h.BaseOffset + int64(kr.OffsetDelta)
				if o >= offset {
					out = append(out, readRecord{o, string(kr.Key), kr.Value})
				}
			}
			offset = h.LastOffset() + 1
		}
	}
}

type readRecord struct {
	offset int64
	key    string
	value  []byte
}

func (r readRecord) String() string { return fmt.Sprintf("%d:%s=%q", r.offset, r.key, r.value) }

func equalRecords(a, b []readRecord) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].offset != b[i].offset || a[i].key != b[i].key || !bytes.Equal(a[i].value, b[i].value) || (a[i].value == nil) != (b[i].value == nil) {
			return false
		}
	}
	return true
}

// fakeClock is a settable clock.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
