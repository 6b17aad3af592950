package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/weir-io/weir/internal/storage/commitlog"
	"github.com/weir-io/weir/internal/vfs"
)

// acked is what a test knows was acknowledged: the records of every
// batch whose append succeeded, by base offset.
type acked struct {
	records []readRecord
	next    int64
}

// add checks that an appended batch got the next offset and remembers it.
func (a *acked) add(t *testing.T, r AppendResult, batch []byte) {
	t.Helper()
	if r.BaseOffset != a.next {
		t.Fatalf("append got offset %d, want %d (offsets must stay dense)", r.BaseOffset, a.next)
	}
	a.next = r.LastOffset + 1
	a.records = append(a.records, batchRecords(t, batch)...)
}

func batchRecords(t *testing.T, batch []byte) []readRecord {
	t.Helper()
	return readBatches(t, batch)
}

// readBatches decodes concatenated batches into records.
func readBatches(t *testing.T, b []byte) []readRecord {
	t.Helper()
	var m modelRun
	m.t = t
	var out []readRecord
	_, _, decoded := m.decodeBatches(b)
	for _, rs := range decoded {
		for _, r := range rs {
			out = append(out, readRecord{r.offset, string(r.key), r.value})
		}
	}
	return out
}

// check checks that the partition holds exactly the acknowledged records.
func (a *acked) check(t *testing.T, p *Partition, when string) {
	t.Helper()
	if got := readAll(t, p, 0); !equalRecords(got, a.records) {
		t.Fatalf("%s: partition holds %d records, %d acknowledged (first difference %s)", when, len(got), len(a.records), firstDifference(got, a.records))
	}
	if off := p.Offsets(); off.LogEnd != a.next {
		t.Fatalf("%s: log end %d, want %d", when, off.LogEnd, a.next)
	}
}

func firstDifference(a, b []readRecord) string {
	for i := range min(len(a), len(b)) {
		if !equalRecords(a[i:i+1], b[i:i+1]) {
			return fmt.Sprintf("at %d: %v vs %v", i, a[i], b[i])
		}
	}
	return "in length"
}

func TestDiskFull(t *testing.T) {
	tests := []struct {
		name        string
		segmentSize int64
		room        int64 // bytes left when the disk fills
	}{
		{"in a segment", 1 << 20, 10_000},
		{"at a rollover", 8 << 10, 9_000},
		{"almost nothing left", 8 << 10, 10},
		{"many segments", 16 << 10, 100_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tt.room), 1))
			fs := vfs.NewFaulty(vfs.Default)
			opts := testOptions(t.TempDir())
			opts.FS = fs
			opts.SegmentSize = tt.segmentSize
			e := openTest(t, opts)
			defer func() { e.Close() }()
			if _, err := e.CreateTopic("t", 1, DefaultTopicConfig()); err != nil {
				t.Fatal(err)
			}
			p, _ := e.Partition("t", 0)
			var a acked
			ctx := context.Background()
			appendOne := func() error {
				batch := fillerBatch(t, rng, 1+rng.IntN(3), 100+rng.IntN(1500), 20, nowMs())
				r, err := p.AppendDurable(ctx, batch)
				if err == nil {
					a.add(t, r, batch) // Append set its base offset
				}
				return err
			}
			for range 5 {
				if err := appendOne(); err != nil {
					t.Fatal(err)
				}
			}
			fs.SetCapacity(fs.Used() + tt.room)
			var failed error
			for i := 0; i < 1000 && failed == nil; i++ {
				failed = appendOne()
			}
			if !errors.Is(failed, ErrStorage) {
				t.Fatalf("appends to a full disk: %v, want an ErrStorage", failed)
			}
			// More appends fail the same way; nothing changes.
			for range 3 {
				if err := appendOne(); err != nil && !errors.Is(err, ErrStorage) {
					t.Fatalf("append to a full disk: %v", err)
				}
			}
			// A small catalog entry may still fit; if creating the topic fails,
			// the topic must not exist.
			_, createErr := e.CreateTopic("other", 1, DefaultTopicConfig())
			if createErr == nil {
				if err := e.DeleteTopic("other"); err != nil && !errors.Is(err, ErrStorage) {
					t.Fatal(err)
				}
			} else if !errors.Is(createErr, ErrStorage) {
				t.Fatalf("create topic on a full disk: %v", createErr)
			}
			if _, err := e.Topic("other"); createErr != nil && !errors.Is(err, ErrUnknownTopicOrPartition) {
				t.Fatalf("a topic whose creation failed (%v) exists: %v", createErr, err)
			}
			a.check(t, p, "while full")
			fs.SetCapacity(0)
			for range 10 {
				if err := appendOne(); err != nil {
					t.Fatalf("append after space came back: %v", err)
				}
			}
			a.check(t, p, "after space came back")
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			e = openTest(t, opts)
			p, _ = e.Partition("t", 0)
			a.check(t, p, "after reopen")
			if err := appendOne(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A failed fsync: the append waiting for it fails, later appends fail
// (commitlog.ErrFailed: the kernel may have dropped the pages), reads
// still work, and reopening recovers.
func TestFsyncFailure(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	fs := vfs.NewFaulty(vfs.Default)
	opts := testOptions(t.TempDir())
	opts.FS = fs
	e := openTest(t, opts)
	defer func() { e.Close() }()
	if _, err := e.CreateTopic("t", 1, DefaultTopicConfig()); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	var a acked
	ctx := context.Background()
	for range 5 {
		batch := fillerBatch(t, rng, 2, 100, 20, nowMs())
		r, err := p.AppendDurable(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		a.add(t, r, batch)
	}
	fs.SetHook(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync {
			return vfs.ErrInjected
		}
		return nil
	})
	unacked := fillerBatch(t, rng, 2, 100, 20, nowMs())
	r, err := p.Append(unacked)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.WaitDurable(ctx, r); !errors.Is(err, ErrStorage) || !errors.Is(err, commitlog.ErrFailed) {
		t.Fatalf("WaitDurable after a failed fsync: %v", err)
	}
	fs.SetHook(nil)
	if _, err := p.Append(fillerBatch(t, rng, 1, 10, 20, nowMs())); !errors.Is(err, ErrStorage) || !errors.Is(err, commitlog.ErrFailed) {
		t.Fatalf("append after a failed fsync: %v", err)
	}
	// Reads go on (the unacknowledged batch is readable, as any batch is
	// once Append returned).
	if got := readAll(t, p, 0); !equalRecords(got[:len(a.records)], a.records) {
		t.Fatalf("reads after a failed fsync: %v", got)
	}
	e.Close() // may report the failed sync
	e = openTest(t, opts)
	p, _ = e.Partition("t", 0)
	got := readAll(t, p, 0)
	if len(got) < len(a.records) || !equalRecords(got[:len(a.records)], a.records) {
		t.Fatalf("after reopen: acknowledged records lost: %v", got)
	}
	// The unacknowledged batch may be there (it reached the file) or not,
	// but nothing else.
	rest := got[len(a.records):]
	if len(rest) != 0 && !equalRecords(rest, batchRecords(t, unacked)) {
		t.Fatalf("after reopen: unexpected records %v", rest)
	}
	a.next = p.Offsets().LogEnd
	a.records = got
	batch := fillerBatch(t, rng, 1, 10, 20, nowMs())
	r, err = p.AppendDurable(ctx, batch)
	if err != nil {
		t.Fatalf("append after reopen: %v", err)
	}
	a.add(t, r, batch)
	a.check(t, p, "after reopen and append")
}

// TestDiskFullTmpfs fills a real 8 MiB tmpfs holding both the commit log
// and the index. The scenario runs in a child process so that a panic (in
// Pebble, say) is reported rather than killing the test binary.
func TestDiskFullTmpfs(t *testing.T) {
	if dir := os.Getenv("WEIR_TMPFS_CHILD"); dir != "" {
		if os.Getenv("WEIR_TMPFS_PHASE") == "recover" {
			recoverTmpfsChild(t, dir)
		} else {
			diskFullTmpfsChild(t, dir)
		}
		return
	}
	if testing.Short() {
		t.Skip("short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s); skipping the real full-disk test", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	state := filepath.Join(t.TempDir(), "acked")
	run := func(phase string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFullTmpfs$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "WEIR_TMPFS_CHILD="+dir, "WEIR_TMPFS_PHASE="+phase, "WEIR_TMPFS_STATE="+state)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("fill")
	if err == nil {
		t.Logf("child:\n%s", lastLines(out, 8))
		return
	}
	if strings.Contains(out, "panic:") {
		t.Errorf("the engine panicked on a full disk:\n%s", lastLines(out, 40))
	} else {
		t.Errorf("full tmpfs scenario failed: %v\n%s", err, out)
	}
	// Whatever happened, the data must be there once space comes back.
	if out, err := exec.Command("mount", "-o", "remount,size=64m", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount bigger: %v: %s", err, out)
	}
	if out, err := run("recover"); err != nil {
		t.Fatalf("recovery after the failure: %v\n%s", err, out)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func diskFullTmpfsChild(t *testing.T, mnt string) {
	rng := rand.New(rand.NewPCG(8, 8))
	opts := testOptions(filepath.Join(mnt, "data"))
	opts.SegmentSize = 1 << 20
	// A reserve in proportion to the 8 MiB disk: the index and the
	// checkpoint at close need room.
	opts.MinFreeBytes = 1 << 20
	e := openTest(t, opts)
	if _, err := e.CreateTopic("t", 1, DefaultTopicConfig()); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	var a acked
	ctx := context.Background()
	var failed error
	for i := 0; i < 10_000 && failed == nil; i++ {
		batch := fillerBatch(t, rng, 4, 4000, 1000, nowMs())
		var r AppendResult
		r, failed = p.AppendDurable(ctx, batch)
		if failed == nil {
			a.add(t, r, batch)
		}
	}
	t.Logf("first failure after %d records: %v", len(a.records), failed)
	if err := os.WriteFile(os.Getenv("WEIR_TMPFS_STATE"), []byte(strconv.Itoa(len(a.records))), 0o644); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(failed, ErrStorage) {
		t.Fatalf("appends to a full tmpfs: %v, want an ErrStorage", failed)
	}
	for range 3 {
		if _, err := p.Append(fillerBatch(t, rng, 1, 4000, 1000, nowMs())); err == nil {
			t.Log("an append succeeded on the full tmpfs") // a smaller batch may fit
			break
		} else if !errors.Is(err, ErrStorage) && !errors.Is(err, ErrClosed) {
			t.Fatalf("append to a full tmpfs: %v", err)
		}
	}
	// What was acknowledged is readable (the last append may have fitted:
	// check the acknowledged prefix).
	if got := readAll(t, p, 0); len(got) < len(a.records) || !equalRecords(got[:len(a.records)], a.records) {
		t.Fatalf("reads on a full tmpfs: %d records, %d acknowledged", len(got), len(a.records))
	}
	if err := e.Close(); err != nil {
		t.Logf("close on a full tmpfs: %v", err)
	}
	if e2, err := Open(opts); err != nil {
		t.Logf("reopen on the full tmpfs fails: %v", err)
	} else {
		t.Log("reopened on the full tmpfs")
		e2.Close()
	}
	if out, err := exec.Command("mount", "-o", "remount,size=64m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount bigger: %v: %s", err, out)
	}
	e = openTest(t, opts)
	defer e.Close()
	p, _ = e.Partition("t", 0)
	got := readAll(t, p, 0)
	if len(got) < len(a.records) || !equalRecords(got[:len(a.records)], a.records) {
		t.Fatalf("after reopen: %d records, %d acknowledged (first difference %s)", len(got), len(a.records), firstDifference(got, a.records))
	}
	if len(got) > len(a.records)+1 {
		t.Logf("after reopen: %d records beyond the acknowledged ones", len(got)-len(a.records))
	}
	a.records, a.next = got, p.Offsets().LogEnd
	batch := fillerBatch(t, rng, 1, 100, 1000, nowMs())
	r, err := p.AppendDurable(ctx, batch)
	if err != nil {
		t.Fatalf("append after space came back: %v", err)
	}
	a.add(t, r, batch)
	a.check(t, p, "after space came back")
}

// recoverTmpfsChild reopens the engine after the fill phase failed and
// checks that the acknowledged records are there, with dense offsets.
func recoverTmpfsChild(t *testing.T, mnt string) {
	raw, err := os.ReadFile(os.Getenv("WEIR_TMPFS_STATE"))
	if err != nil {
		t.Fatalf("the fill phase did not get to record what it acknowledged: %v", err)
	}
	n, _ := strconv.Atoi(string(raw))
	e := openTest(t, testOptions(filepath.Join(mnt, "data")))
	defer e.Close()
	p, err := e.Partition("t", 0)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, p, 0)
	if len(got) < n {
		t.Fatalf("after recovery %d records, %d were acknowledged", len(got), n)
	}
	for i, r := range got {
		if r.offset != int64(i) {
			t.Fatalf("record %d at offset %d", i, r.offset)
		}
	}
	r, err := p.Append(fillerBatch(t, rand.New(rand.NewPCG(1, 1)), 1, 10, 10, nowMs()))
	if err != nil || r.BaseOffset != int64(len(got)) {
		t.Fatalf("append after recovery: %+v, %v", r, err)
	}
	t.Logf("recovered %d records (%d acknowledged)", len(got), n)
}
