package recordbatch

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// timestampBatch is a compacted batch with offset-delta gaps and record
// timestamps out of order. With base offset 1000 and base timestamp T:
//
//	offset  1000  1002  1003  1006  1009
//	time    T+50  T+10  T+90  T+90  T+30
func timestampBatch(t *testing.T, c Codec) (Header, []byte) {
	h := testHeader(c, 10)
	h.MaxTimestamp = h.BaseTimestamp + 90
	b := mustBuild(t, h, []kmsg.Record{
		record(0, 50, []byte("a"), nil),
		record(2, 10, []byte("b"), nil),
		record(3, 90, []byte("c"), nil),
		record(6, 90, []byte("d"), nil),
		record(9, 30, []byte("e"), nil),
	})
	return h, b
}

func TestOffsetForTimestamp(t *testing.T) {
	tests := []struct {
		name      string
		delta     int64 // target timestamp minus the base timestamp
		want      int64
		wantFound bool
	}{
		{"before every record", -1000, 1000, true},
		{"first record's timestamp", 50, 1000, true},
		{"earlier timestamp later in the batch", 10, 1000, true},
		{"after the first, found later", 51, 1003, true},
		{"the max timestamp", 90, 1003, true},
		{"after the max timestamp", 91, 0, false},
	}
	for _, c := range codecs {
		h, b := timestampBatch(t, c)
		for _, tt := range tests {
			t.Run(c.String()+"/"+tt.name, func(t *testing.T) {
				got, found, err := OffsetForTimestamp(b, h.BaseTimestamp+tt.delta, 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				if got != tt.want || found != tt.wantFound {
					t.Errorf("OffsetForTimestamp = %d, %t; want %d, %t", got, found, tt.want, tt.wantFound)
				}
			})
		}
	}
}

func TestOffsetForTimestampLogAppendTime(t *testing.T) {
	_, b := timestampBatch(t, Gzip)
	SetLogAppendTime(b, 5000)
	tests := []struct {
		ts        int64
		want      int64
		wantFound bool
	}{
		{0, 1000, true},
		{5000, 1000, true},
		{5001, 0, false},
	}
	for _, tt := range tests {
		got, found, err := OffsetForTimestamp(b, tt.ts, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want || found != tt.wantFound {
			t.Errorf("OffsetForTimestamp(%d) = %d, %t; want %d, %t", tt.ts, got, found, tt.want, tt.wantFound)
		}
	}
}

func TestOffsetOfMaxTimestamp(t *testing.T) {
	logAppendTime := func(b []byte) []byte { SetLogAppendTime(b, 1); return b }
	understated := func(t *testing.T) []byte {
		// The header claims a max timestamp no record carries.
		h := testHeader(None, 3)
		h.MaxTimestamp = h.BaseTimestamp + 5
		return mustBuild(t, h, []kmsg.Record{
			record(0, 1, nil, nil), record(1, 3, nil, nil), record(2, 3, nil, nil),
		})
	}
	emptyHeader := testHeader(None, 0)
	emptyHeader.LastOffsetDelta = 4
	tests := []struct {
		name    string
		batch   func(*testing.T) []byte
		want    int64
		wantErr error
	}{
		{"first of two records at the max", func(t *testing.T) []byte { _, b := timestampBatch(t, Zstd); return b }, 1003, nil},
		{"log append time: the first record", func(t *testing.T) []byte { _, b := timestampBatch(t, LZ4); return logAppendTime(b) }, 1000, nil},
		{"no record at the header's max", understated, 1001, nil},
		{"no records", func(t *testing.T) []byte { return mustBuild(t, emptyHeader, nil) }, 0, ErrEmpty},
		{"corrupt", func(t *testing.T) []byte { return []byte("short") }, 0, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OffsetOfMaxTimestamp(tt.batch(t), 1<<20)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("OffsetOfMaxTimestamp: %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("OffsetOfMaxTimestamp = %d, want %d", got, tt.want)
			}
		})
	}
}
