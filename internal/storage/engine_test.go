package storage

import (
	"context"
	"errors"
	"testing"
)

func TestAppendReadRestart(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, testOptions(dir))
	if _, err := e.CreateTopic("orders", 3, DefaultTopicConfig()); err != nil {
		t.Fatal(err)
	}
	p, err := e.Partition("orders", 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 10 {
		r, err := p.AppendDurable(ctx, valueBatch(t, "v", 5, int64(1000+i*10)))
		if err != nil {
			t.Fatal(err)
		}
		if r.BaseOffset != int64(i*5) || r.LastOffset != int64(i*5+4) {
			t.Fatalf("append %d: offsets %d..%d", i, r.BaseOffset, r.LastOffset)
		}
	}
	want := readAll(t, p, 0)
	if len(want) != 50 {
		t.Fatalf("read %d records, want 50", len(want))
	}
	mid := readAll(t, p, 23)
	if len(mid) != 27 || mid[0].offset != 23 {
		t.Fatalf("read from 23: %v", mid)
	}
	if _, err := p.Read(51, 100); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read past end: %v", err)
	}
	o, ts, ok, err := p.OffsetForTime(1032)
	if err != nil || !ok || o != 17 || ts != 1032 {
		t.Fatalf("offset for time 1032: %d %d %v %v", o, ts, ok, err)
	}
	if _, _, ok, _ := p.OffsetForTime(5000); ok {
		t.Fatal("offset for a future time found")
	}
	o, ts, ok, err = p.MaxTimestamp()
	if err != nil || !ok || o != 49 || ts != 1094 {
		t.Fatalf("max timestamp: %d %d %v %v", o, ts, ok, err)
	}
	start, err := p.DeleteRecords(ctx, 12)
	if err != nil || start != 12 {
		t.Fatalf("delete records: %d %v", start, err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e = openTest(t, testOptions(dir))
	defer e.Close()
	p, err = e.Partition("orders", 1)
	if err != nil {
		t.Fatal(err)
	}
	off := p.Offsets()
	if off.LogStart != 12 || off.LogEnd != 50 {
		t.Fatalf("after restart: %+v", off)
	}
	got := readAll(t, p, 12)
	if !equalRecords(got, want[12:]) {
		t.Fatalf("after restart read %v\nwant %v", got, want[12:])
	}
	if _, err := p.Read(5, 100); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
}

// TestPagingOverManyBatches covers lookups that page through the index
// (more than one page of 256 entries) over multi-record batches.
func TestPagingOverManyBatches(t *testing.T) {
	e := openTest(t, testOptions(t.TempDir()))
	defer e.Close()
	config := DefaultTopicConfig()
	config.RetentionMs = -1
	config.CleanupPolicy = CleanupCompact
	config.MinCleanableDirtyRatio = 0
	if _, err := e.CreateTopic("t", 1, config); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	for i := range 600 {
		if _, err := p.AppendDurable(context.Background(), valueBatch(t, "v", 3, int64(i*3))); err != nil {
			t.Fatal(err)
		}
	}
	o, ts, ok, err := p.OffsetForTime(1500)
	if err != nil || !ok || o != 1500 || ts != 1500 {
		t.Fatalf("offset for time 1500: %d %d %v %v", o, ts, ok, err)
	}
	if _, _, ok, err := p.OffsetForTime(1 << 40); ok || err != nil {
		t.Fatalf("offset for a future time: %v %v", ok, err)
	}
	if err := e.RunCleaner(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Keys k0..k2 repeat in every batch: compaction keeps the last batch.
	got := readAll(t, p, 0)
	if len(got) != 3 || got[0].offset != 1797 {
		t.Fatalf("after compaction: %v", got)
	}
}
