package recordbatch

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestSetBaseOffset(t *testing.T) {
	for _, offset := range []int64{0, 1, 1 << 40, -1} {
		b := mustBuild(t, testHeader(Snappy, 3), sequentialRecords(3))
		SetBaseOffset(b, offset)
		h, err := Validate(b)
		if err != nil {
			t.Fatalf("SetBaseOffset(%d): Validate: %v", offset, err)
		}
		if h.BaseOffset != offset || h.LastOffset() != offset+2 {
			t.Errorf("SetBaseOffset(%d): base offset %d, last offset %d", offset, h.BaseOffset, h.LastOffset())
		}
	}
}

func TestSetLogAppendTime(t *testing.T) {
	const appendTime = 1_800_000_000_000
	for _, c := range codecs {
		t.Run(c.String(), func(t *testing.T) {
			template := testHeader(c, 3)
			records := []kmsg.Record{
				record(0, 30, []byte("a"), nil),
				record(1, 10, []byte("b"), nil),
				record(2, 20, []byte("c"), nil),
			}
			b := mustBuild(t, template, records)
			SetLogAppendTime(b, appendTime)
			h, err := Validate(b)
			if err != nil {
				t.Fatalf("Validate after SetLogAppendTime: %v", err)
			}
			if !h.LogAppendTime() || h.Codec() != c {
				t.Errorf("attributes %#x: log append time %t, codec %s", h.Attributes, h.LogAppendTime(), h.Codec())
			}
			if h.MaxTimestamp != appendTime || h.BaseTimestamp != template.BaseTimestamp {
				t.Errorf("max timestamp %d, base timestamp %d; want %d and the producer's %d",
					h.MaxTimestamp, h.BaseTimestamp, appendTime, template.BaseTimestamp)
			}
			h, got, err := Records(b, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if ts := h.TimestampOf(&got[i]); ts != appendTime {
					t.Errorf("record %d: timestamp %d, want %d", i, ts, appendTime)
				}
			}
		})
	}
}
