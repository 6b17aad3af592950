package storage

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/weir-io/weir/internal/vfs"
)

// TestHighWatermarkWaitsForSync holds the log's fsyncs back and checks that
// under the durable policy nothing appended since is readable, and that
// retention, compaction and the max-timestamp lookup stop at the high
// watermark; then lets the fsyncs through and checks that it moves.
func TestHighWatermarkWaitsForSync(t *testing.T) {
	fs := vfs.NewFaulty(vfs.Default)
	opts := testOptions(t.TempDir())
	opts.FS = fs
	e := openTest(t, opts)
	defer e.Close()
	rng := rand.New(rand.NewPCG(7, 7))
	ctx := context.Background()
	hour := time.Hour.Milliseconds()
	deleting, err := e.TopicDefaults().WithOverrides(map[string]string{ConfigRetentionMs: "1000"})
	if err != nil {
		t.Fatal(err)
	}
	compacting, err := e.TopicDefaults().WithOverrides(map[string]string{ConfigCleanupPolicy: "compact", ConfigMinCleanableDirtyRatio: "0"})
	if err != nil {
		t.Fatal(err)
	}
	for name, config := range map[string]TopicConfig{"deleting": deleting, "compacting": compacting} {
		if _, err := e.CreateTopic(name, 1, config); err != nil {
			t.Fatal(err)
		}
	}
	del, _ := e.Partition("deleting", 0)
	cmp, _ := e.Partition("compacting", 0)
	for range 3 { // synced: expired, and one key written three times
		if _, err := del.AppendDurable(ctx, fillerBatch(t, rng, 2, 100, 1000, nowMs()-hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := cmp.AppendDurable(ctx, makeBatch(t, 0, rec{key: []byte("k"), value: []byte("v"), ts: nowMs()})); err != nil {
			t.Fatal(err)
		}
	}

	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()
	fs.SetHook(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync {
			<-release
		}
		return nil
	})
	if _, err := del.Append(fillerBatch(t, rng, 2, 100, 1000, nowMs()-hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := cmp.Append(makeBatch(t, 0, rec{key: []byte("k"), value: []byte("newest"), ts: nowMs() + hour})); err != nil {
		t.Fatal(err)
	}
	if off := del.Offsets(); off.HighWatermark != 6 || off.LogEnd != 8 {
		t.Fatalf("before the sync: high watermark %d, log end %d; want 6 and 8", off.HighWatermark, off.LogEnd)
	}
	if _, err := del.Read(7, 1<<20); err == nil {
		t.Fatal("read an unsynced offset")
	}
	if err := e.retain(del, deleting, nowMs()); err != nil {
		t.Fatal(err)
	}
	if off := del.Offsets(); off.LogStart != 6 || off.HighWatermark != 6 {
		t.Fatalf("retention with an unsynced batch: log start %d, high watermark %d; want both 6", off.LogStart, off.HighWatermark)
	}
	if _, ts, found, err := cmp.MaxTimestamp(); err != nil || !found || ts > nowMs() {
		t.Fatalf("max timestamp %d (found %v, %v) is the unsynced batch's", ts, found, err)
	}
	done := make(chan error, 1)
	go func() {
		e.cleanMu.Lock()
		defer e.cleanMu.Unlock()
		done <- e.compact(ctx, cmp, compacting, nowMs())
	}()
	compacted := false
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		compacted = true
	case <-time.After(2 * time.Second):
		// Compaction syncs its copies: it waits for the release below.
	}
	if recs := readAll(t, cmp, cmp.Offsets().LogStart); len(recs) == 0 || string(recs[len(recs)-1].value) != "v" {
		t.Fatalf("compaction with an unsynced newer record left %v", recs)
	}

	open()
	if err := e.WaitDurable(ctx, AppendResult{end: e.log.Written()}); err != nil {
		t.Fatal(err)
	}
	if off := del.Offsets(); off.HighWatermark != 8 {
		t.Fatalf("after the sync: high watermark %d, want 8", off.HighWatermark)
	}
	if !compacted {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
