package commitlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-io/weir/internal/vfs"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// opened is a log opened by openLog with the entries its recovery replayed.
type opened struct {
	*Log
	report  ScanReport
	entries []Entry
}

func openLog(t testing.TB, fs vfs.FS, dir string, segmentSize int64, d Durability, from uint64) *opened {
	t.Helper()
	o := &opened{}
	l, report, err := Open(Options{FS: fs, Dir: dir, SegmentSize: segmentSize, Durability: d, Logger: quiet}, from,
		func(e Entry) error {
			e.Payload = append([]byte(nil), e.Payload...)
			o.entries = append(o.entries, e)
			return nil
		})
	if err != nil {
		t.Fatalf("open log: %v", err)
	}
	o.Log, o.report = l, report
	t.Cleanup(func() { l.Close() })
	return o
}

func payload(i int) []byte { return []byte(fmt.Sprintf("payload-%04d", i)) }

func mustAppend(t testing.TB, l *Log, i int) (uint64, int) {
	t.Helper()
	pos, size, err := l.Append(Kind(1+i%5), uint64(i), payload(i))
	if err != nil {
		t.Fatalf("append %d: %v", i, err)
	}
	return pos, size
}

func ctxTimeout(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// checkEntries checks that entries are payloads from..from+len-1 appended by
// mustAppend.
func checkEntries(t testing.TB, entries []Entry, from int) {
	t.Helper()
	for j, e := range entries {
		i := from + j
		if e.Kind != Kind(1+i%5) || e.Partition != uint64(i) || string(e.Payload) != string(payload(i)) {
			t.Fatalf("entry %d: kind %d partition %d payload %q", i, e.Kind, e.Partition, e.Payload)
		}
	}
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	names, err := vfs.Default.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestAppendReadReopen(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, nil, dir, 1<<10, Durability{Mode: None}, 0)
	var positions []uint64
	var sizes []int
	for i := range 100 {
		pos, size := mustAppend(t, l.Log, i)
		if size != EntrySize(len(payload(i))) {
			t.Fatalf("size %d", size)
		}
		positions, sizes = append(positions, pos), append(sizes, size)
	}
	if len(l.Segments()) < 3 {
		t.Fatalf("segments did not roll: %+v", l.Segments())
	}
	for i, pos := range positions {
		e, _, err := l.ReadEntry(pos, sizes[i], nil)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		checkEntries(t, []Entry{e}, i)
	}
	if _, _, err := l.ReadEntry(l.Written(), 20, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("read past the end: %v", err)
	}
	if _, _, err := l.ReadEntry(positions[3], sizes[3]+1, nil); err == nil {
		t.Fatal("read with a wrong size succeeded")
	}
	written := l.Written()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Append(1, 1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}

	l = openLog(t, nil, dir, 1<<10, Durability{Mode: None}, 0)
	if len(l.entries) != 100 || l.Written() != written || len(l.report.Corruptions) != 0 || l.report.Truncated != 0 {
		t.Fatalf("reopen: %d entries, written %d (want %d), report %+v", len(l.entries), l.Written(), written, l.report)
	}
	checkEntries(t, l.entries, 0)
	l.Close()
	// Replay from a position skips what lies before it.
	l = openLog(t, nil, dir, 1<<10, Durability{Mode: None}, positions[60])
	if len(l.entries) != 40 {
		t.Fatalf("replay from entry 60: %d entries", len(l.entries))
	}
	checkEntries(t, l.entries, 60)
}

func TestParseDurability(t *testing.T) {
	tests := []struct {
		in      string
		want    Durability
		wantErr bool
	}{
		{"durable", Durability{Mode: Durable}, false},
		{"", Durability{Mode: Durable}, false},
		{"none", Durability{Mode: None}, false},
		{"interval:10ms", Durability{Mode: Interval, Interval: 10 * time.Millisecond}, false},
		{"interval:1s", Durability{Mode: Interval, Interval: time.Second}, false},
		{"interval:0s", Durability{}, true},
		{"interval:-1s", Durability{}, true},
		{"interval:", Durability{}, true},
		{"interval:soon", Durability{}, true},
		{"interval", Durability{}, true},
		{"Durable", Durability{}, true},
		{"always", Durability{}, true},
	}
	for _, tt := range tests {
		got, err := ParseDurability(tt.in)
		if (err != nil) != tt.wantErr || !tt.wantErr && got != tt.want {
			t.Errorf("ParseDurability(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil {
			again, err := ParseDurability(got.String())
			if err != nil || again != got {
				t.Errorf("%q: String %q does not parse back: %+v, %v", tt.in, got.String(), again, err)
			}
		}
	}
}

// fileSyncs returns the syncs of segment files (not directories).
func fileSyncs(fs *vfs.Faulty) []string {
	var out []string
	for _, s := range fs.Syncs() {
		if strings.HasSuffix(s, segmentSuffix) {
			out = append(out, s)
		}
	}
	return out
}

// Many appenders under the durable policy: each WaitSynced returns only
// after an fsync of the segment that started after the append was written,
// and the fsyncs are shared.
func TestGroupCommit(t *testing.T) {
	const appenders, each = 32, 20
	dir := t.TempDir()
	fs := vfs.NewFaulty(vfs.Default)
	var started atomic.Int64 // file syncs started
	release := make(chan struct{})
	var appended atomic.Int64
	fs.SetHook(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync && strings.HasSuffix(op.Name, segmentSuffix) {
			if started.Add(1) == 1 {
				<-release // hold the first sync until every appender wrote once
			}
		}
		return nil
	})
	l := openLog(t, fs, dir, 1<<30, Durability{Mode: Durable}, 0)
	ctx := ctxTimeout(t)
	var wg sync.WaitGroup
	errs := make(chan error, appenders)
	for g := range appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// A sync that started before the append began cannot cover
				// it; WaitSynced must wait for a later one.
				before := started.Load()
				pos, size, err := l.Append(1, uint64(g), payload(g*each+i))
				if err != nil {
					errs <- err
					return
				}
				if i == 0 && appended.Add(1) == appenders {
					close(release)
				}
				if err := l.WaitSynced(ctx, pos+uint64(size)); err != nil {
					errs <- err
					return
				}
				if done := int64(len(fileSyncs(fs))); done <= before {
					errs <- fmt.Errorf("appender %d: WaitSynced(%d) returned after %d completed syncs, %d had started before the append",
						g, pos+uint64(size), done, before)
					return
				}
				if l.Synced() < pos+uint64(size) {
					errs <- fmt.Errorf("synced %d below %d after WaitSynced", l.Synced(), pos+uint64(size))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(fileSyncs(fs)); n >= appenders*each {
		t.Errorf("%d fsyncs for %d appends: no group commit", n, appenders*each)
	}
}

// On a rollover the new segment's file is created and the directory synced
// before anything is written into it, and the old segment is synced
// before (or with) the new one: a position in the new segment is never
// reported durable while the old one is not.
func TestRollover(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.NewFaulty(vfs.Default)
	var mu sync.Mutex
	var ops []vfs.Op
	fs.SetHook(func(op vfs.Op) error {
		mu.Lock()
		defer mu.Unlock()
		ops = append(ops, op)
		return nil
	})
	l := openLog(t, fs, dir, 256, Durability{Mode: None}, 0)
	first := filepath.Join(dir, segmentName(0))
	var lastPos uint64
	var lastSize int
	for i := 0; len(l.Segments()) < 2; i++ {
		lastPos, lastSize = mustAppend(t, l.Log, i)
	}
	second := filepath.Join(dir, segmentName(l.Segments()[1].Base))
	if lastPos != l.Segments()[1].Base+SegmentHeaderSize {
		t.Fatalf("first entry of the new segment at %d, segment base %d", lastPos, l.Segments()[1].Base)
	}
	mu.Lock()
	var order []string
	for _, op := range ops {
		switch {
		case op.Kind == vfs.OpCreate && op.Name == second:
			order = append(order, "create")
		case op.Kind == vfs.OpSyncDir && len(order) == 1:
			order = append(order, "syncdir")
		case op.Kind == vfs.OpWrite && op.Name == second && op.Offset >= SegmentHeaderSize && len(order) == 2:
			order = append(order, "write")
		}
	}
	mu.Unlock()
	if strings.Join(order, ",") != "create,syncdir,write" {
		t.Fatalf("rollover did %v, want create, syncdir, write", order)
	}
	if got := fileSyncs(fs); len(got) != 0 {
		t.Fatalf("none policy synced on its own: %v", got)
	}
	if err := l.Sync(ctxTimeout(t)); err != nil {
		t.Fatal(err)
	}
	if got := fileSyncs(fs); len(got) != 2 || got[0] != first || got[1] != second {
		t.Fatalf("syncs %v, want %s then %s", got, first, second)
	}
	if l.Synced() < lastPos+uint64(lastSize) {
		t.Fatalf("synced %d, want at least %d", l.Synced(), lastPos+uint64(lastSize))
	}

	// Under the durable policy, a failed sync of the old segment keeps the
	// new segment's positions from being reported durable.
	dir2 := t.TempDir()
	fs2 := vfs.NewFaulty(vfs.Default)
	fail := make(chan struct{})
	fs2.SetHook(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync && strings.HasSuffix(op.Name, segmentName(0)) {
			select {
			case <-fail:
				return vfs.ErrInjected
			default:
			}
		}
		return nil
	})
	l2 := openLog(t, fs2, dir2, 256, Durability{Mode: Durable}, 0)
	pos, size := mustAppend(t, l2.Log, 0)
	if err := l2.WaitSynced(ctxTimeout(t), pos+uint64(size)); err != nil {
		t.Fatal(err)
	}
	close(fail)
	var end uint64
	for i := 1; len(l2.Segments()) < 2; i++ {
		pos, size, err := l2.Append(1, 1, payload(i))
		if err != nil {
			break // the failed sync was seen already
		}
		end = pos + uint64(size)
	}
	if end == 0 {
		t.Fatal("no append went to the new segment")
	}
	if err := l2.WaitSynced(ctxTimeout(t), end); !errors.Is(err, ErrFailed) {
		t.Fatalf("WaitSynced in the new segment after the old one's sync failed: %v", err)
	}
}

func TestIntervalPolicy(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.NewFaulty(vfs.Default)
	l := openLog(t, fs, dir, 1<<20, Durability{Mode: Interval, Interval: time.Millisecond}, 0)
	var end uint64
	for i := range 10 {
		pos, size := mustAppend(t, l.Log, i)
		end = pos + uint64(size)
	}
	// Nothing kicks the flusher; the ticker syncs.
	if err := l.WaitSynced(ctxTimeout(t), end); err != nil {
		t.Fatal(err)
	}
	if len(fileSyncs(fs)) == 0 {
		t.Fatal("synced without an fsync")
	}
}

func TestNonePolicy(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.NewFaulty(vfs.Default)
	l := openLog(t, fs, dir, 1<<20, Durability{Mode: None}, 0)
	start := l.Synced()
	var end uint64
	for i := range 10 {
		pos, size := mustAppend(t, l.Log, i)
		end = pos + uint64(size)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.WaitSynced(ctx, end); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitSynced under none with a cancelled context: %v", err)
	}
	if l.Synced() != start || len(fileSyncs(fs)) != 0 {
		t.Fatalf("none policy synced on its own: synced %d, syncs %v", l.Synced(), fs.Syncs())
	}
	if err := l.Sync(ctxTimeout(t)); err != nil {
		t.Fatal(err)
	}
	if l.Synced() < end || len(fileSyncs(fs)) != 1 {
		t.Fatalf("after Sync: synced %d (want %d), syncs %v", l.Synced(), end, fs.Syncs())
	}
}

func TestFailedSync(t *testing.T) {
	for _, mode := range []Mode{Durable, Interval, None} {
		t.Run(Durability{Mode: mode, Interval: time.Millisecond}.String(), func(t *testing.T) {
			dir := t.TempDir()
			fs := vfs.NewFaulty(vfs.Default)
			fs.SetHook(func(op vfs.Op) error {
				if op.Kind == vfs.OpSync {
					return vfs.ErrInjected
				}
				return nil
			})
			l := openLog(t, fs, dir, 1<<20, Durability{Mode: mode, Interval: time.Millisecond}, 0)
			pos, size := mustAppend(t, l.Log, 0)
			if mode == None {
				if err := l.Sync(ctxTimeout(t)); !errors.Is(err, ErrFailed) || !errors.Is(err, vfs.ErrInjected) {
					t.Fatalf("Sync: %v", err)
				}
			}
			if err := l.WaitSynced(ctxTimeout(t), pos+uint64(size)); !errors.Is(err, ErrFailed) || !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("WaitSynced: %v, want ErrFailed and the cause", err)
			}
			// The failure is sticky, even once syncs work again.
			fs.SetHook(nil)
			if _, _, err := l.Append(1, 1, payload(1)); !errors.Is(err, ErrFailed) {
				t.Fatalf("append after a failed sync: %v", err)
			}
			if err := l.Sync(ctxTimeout(t)); !errors.Is(err, ErrFailed) {
				t.Fatalf("Sync after a failed sync: %v", err)
			}
			l.Close()
			// Reopening recovers: what the file holds is replayed, appends work.
			l = openLog(t, fs, dir, 1<<20, Durability{Mode: mode, Interval: time.Millisecond}, 0)
			if len(l.entries) != 1 {
				t.Fatalf("reopen replayed %d entries, want 1", len(l.entries))
			}
			checkEntries(t, l.entries, 0)
			pos, size = mustAppend(t, l.Log, 1)
			if err := l.Sync(ctxTimeout(t)); err != nil {
				t.Fatal(err)
			}
			if err := l.WaitSynced(ctxTimeout(t), pos+uint64(size)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// writeLog writes n entries (the last segment holds the last ones) and
// returns the path of the last segment and the end of the written data.
func writeLog(t testing.TB, dir string, segmentSize int64, n int) (string, uint64) {
	t.Helper()
	l := openLog(t, nil, dir, segmentSize, Durability{Mode: None}, 0)
	for i := range n {
		mustAppend(t, l.Log, i)
	}
	segs := l.Segments()
	last := filepath.Join(dir, segmentName(segs[len(segs)-1].Base))
	end := l.Written() - segs[len(segs)-1].Base
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return last, end
}

func appendFile(t testing.TB, name string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// entryBytes encodes an entry as Append does.
func entryBytes(kind Kind, partition uint64, p []byte) []byte {
	b := make([]byte, EntrySize(len(p)))
	copy(b[EntryHeaderSize:], p)
	putEntryHeader(b[:EntryHeaderSize], kind, partition, b[EntryHeaderSize:])
	return b
}

func TestTornTail(t *testing.T) {
	valid := entryBytes(1, 7, []byte("a whole entry"))
	badCRC := append([]byte(nil), valid...)
	badCRC[len(badCRC)-1] ^= 1
	zeroLengthThenData := make([]byte, 16)
	zeroLengthThenData[12] = 9
	tests := []struct {
		name       string
		tail       []byte
		corruption error // nil: a clean end, nothing reported
	}{
		{"partial length word", []byte{0, 0, 1}, ErrTorn},
		{"entry runs past the end", valid[:len(valid)-3], ErrTorn},
		{"checksum mismatch", badCRC, ErrChecksum},
		{"length below the header", append(binary.BigEndian.AppendUint32(nil, 3), make([]byte, 12)...), ErrBadLength},
		{"huge length", append(binary.BigEndian.AppendUint32(nil, 0xffffffff), make([]byte, 20)...), ErrBadLength},
		{"zero length, data after", zeroLengthThenData, ErrBadLength},
		{"preallocated zeros", make([]byte, 100), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			last, end := writeLog(t, dir, 512, 50)
			appendFile(t, last, tt.tail)
			l := openLog(t, nil, dir, 512, Durability{Mode: Durable}, 0)
			if len(l.entries) != 50 {
				t.Fatalf("replayed %d entries, want 50", len(l.entries))
			}
			checkEntries(t, l.entries, 0)
			if l.report.Truncated != uint64(len(tt.tail)) {
				t.Errorf("truncated %d bytes, want %d", l.report.Truncated, len(tt.tail))
			}
			switch {
			case tt.corruption == nil && len(l.report.Corruptions) != 0:
				t.Errorf("corruptions %v, want none", l.report.Corruptions)
			case tt.corruption != nil && (len(l.report.Corruptions) != 1 || !errors.Is(&l.report.Corruptions[0], tt.corruption)):
				t.Errorf("corruptions %v, want one %v", l.report.Corruptions, tt.corruption)
			case tt.corruption != nil:
				c := l.report.Corruptions[0]
				if c.Segment != last || c.Offset != int64(end) {
					t.Errorf("corruption located at %s:%d, want %s:%d", c.Segment, c.Offset, last, end)
				}
			}
			info, err := os.Stat(last)
			if err != nil || info.Size() != int64(end) {
				t.Fatalf("file not truncated to %d: %v %v", end, info.Size(), err)
			}
			pos, size := mustAppend(t, l.Log, 50)
			if err := l.WaitSynced(ctxTimeout(t), pos+uint64(size)); err != nil {
				t.Fatal(err)
			}
			l.Close()
			l = openLog(t, nil, dir, 512, Durability{Mode: None}, 0)
			if len(l.entries) != 51 || len(l.report.Corruptions) != 0 {
				t.Fatalf("after append and reopen: %d entries, %v", len(l.entries), l.report.Corruptions)
			}
			checkEntries(t, l.entries, 0)
		})
	}
}

// Damage before the end of an older segment is reported and left alone:
// the entries after it in that segment are not replayed, later segments
// are.
func TestDamageInOlderSegment(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, nil, dir, 512, Durability{Mode: None}, 0)
	var positions []uint64
	for i := range 60 {
		pos, _ := mustAppend(t, l.Log, i)
		positions = append(positions, pos)
	}
	segs := l.Segments()
	l.Close()
	if len(segs) < 3 {
		t.Fatalf("want 3 segments, have %d", len(segs))
	}
	first := filepath.Join(dir, segmentName(0))
	raw, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	// Flip a byte of the third entry's payload.
	raw[positions[2]+EntryHeaderSize] ^= 0xff
	if err := os.WriteFile(first, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, nil, dir, 512, Durability{Mode: None}, 0)
	if len(l.report.Corruptions) != 1 || !errors.Is(&l.report.Corruptions[0], ErrChecksum) || l.report.Corruptions[0].Position != positions[2] {
		t.Fatalf("corruptions %v", l.report.Corruptions)
	}
	if l.report.Truncated != 0 {
		t.Fatalf("an older segment was truncated: %d", l.report.Truncated)
	}
	if info, _ := os.Stat(first); info.Size() != int64(len(raw)) {
		t.Fatalf("damaged older segment changed size: %d", info.Size())
	}
	checkEntries(t, l.entries[:2], 0)
	var later []Entry
	for _, e := range l.entries[2:] {
		if e.Position >= segs[1].Base {
			later = append(later, e)
		}
	}
	if len(later) != len(l.entries)-2 {
		t.Fatalf("entries after the damage in the first segment were replayed")
	}
	if _, _, err := l.ReadEntry(positions[2], EntrySize(len(payload(2))), nil); !errors.Is(err, ErrChecksum) {
		t.Fatalf("read of the damaged entry: %v", err)
	}
	var ce *CorruptionError
	if _, _, err := l.ReadEntry(positions[2], EntrySize(len(payload(2))), nil); !errors.As(err, &ce) || ce.Segment != first {
		t.Fatalf("read of the damaged entry: %v", err)
	}
}

func TestDamagedHeader(t *testing.T) {
	tests := []struct {
		name      string
		segment   int  // which segment's header to damage (-1: the last)
		truncate  bool // cut the file to its header
		wantFiles func(names []string, bases []uint64) error
	}{
		{"first segment set aside", 0, false, nil},
		{"last segment with data set aside", -1, false, nil},
		{"empty last segment removed", -1, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, nil, dir, 512, Durability{Mode: None}, 0)
			for i := 0; len(l.Segments()) < 3; i++ {
				mustAppend(t, l.Log, i)
			}
			segs := l.Segments()
			l.Close()
			i := tt.segment
			if i < 0 {
				i = len(segs) - 1
			}
			name := filepath.Join(dir, segmentName(segs[i].Base))
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			raw[3] ^= 0xff // the magic
			if tt.truncate {
				raw = raw[:SegmentHeaderSize]
			}
			if err := os.WriteFile(name, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			l = openLog(t, nil, dir, 512, Durability{Mode: None}, 0)
			files := segmentFiles(t, dir)
			_, corruptErr := os.Stat(name + ".corrupt")
			_, origErr := os.Stat(name)
			if !os.IsNotExist(origErr) {
				t.Fatalf("damaged segment still in place: %v (files %v)", origErr, files)
			}
			if tt.truncate != os.IsNotExist(corruptErr) {
				t.Fatalf("set aside: %v (files %v)", corruptErr, files)
			}
			for _, e := range l.entries {
				if e.Position >= segs[i].Base && (i == len(segs)-1 || e.Position < segs[i+1].Base) {
					t.Fatalf("entry at %d of the damaged segment replayed", e.Position)
				}
			}
			for _, s := range l.Segments() {
				if s.Base == segs[i].Base {
					t.Fatalf("damaged segment still listed: %+v", l.Segments())
				}
			}
			pos, size := mustAppend(t, l.Log, 1000)
			if e, _, err := l.ReadEntry(pos, size, nil); err != nil || string(e.Payload) != string(payload(1000)) {
				t.Fatalf("read after recovery: %v", err)
			}
		})
	}
}

// A segment removed while a reader holds it stays readable by that reader
// until it lets go; new reads of it fail with ErrNotFound.
func TestRemoveSegmentWhileReading(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, nil, dir, 512, Durability{Mode: None}, 0)
	for i := 0; len(l.Segments()) < 3; i++ {
		mustAppend(t, l.Log, i)
	}
	segs := l.Segments()
	usage := l.DiskUsage()
	if err := l.RemoveSegment(segs[len(segs)-1].Base); err == nil {
		t.Fatal("removed the active segment")
	}
	if err := l.RemoveSegment(segs[0].Base + 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove of no segment: %v", err)
	}
	var seen []Entry
	removed := false
	err := l.ScanSegment(segs[0].Base, func(e Entry) error {
		if !removed {
			removed = true
			if err := l.RemoveSegment(segs[0].Base); err != nil {
				return err
			}
			if _, err := os.Stat(filepath.Join(dir, segmentName(segs[0].Base))); !os.IsNotExist(err) {
				return fmt.Errorf("file still there: %v", err)
			}
			if _, _, err := l.ReadEntry(e.Position, e.Size, nil); !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("new read of a removed segment: %v", err)
			}
		}
		e.Payload = append([]byte(nil), e.Payload...)
		seen = append(seen, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 || seen[len(seen)-1].End() != segs[0].End {
		t.Fatalf("the reader did not finish the removed segment: %d entries", len(seen))
	}
	checkEntries(t, seen, 0)
	if got := l.DiskUsage(); got != usage-int64(segs[0].End-segs[0].Base) {
		t.Fatalf("disk usage %d after removing %d of %d", got, segs[0].End-segs[0].Base, usage)
	}
	if err := l.ScanSegment(segs[0].Base, func(Entry) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("scan of a removed segment: %v", err)
	}
	l.Close()
	l = openLog(t, nil, dir, 512, Durability{Mode: None}, 0)
	if got := l.Segments(); len(got) != len(segs)-1 || got[0].Base != segs[1].Base {
		t.Fatalf("segments after reopen %+v", got)
	}
}

// A failed write leaves nothing: the next append goes where it would have,
// and recovery sees only whole entries.
func TestFailedWrite(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.NewFaulty(vfs.Default)
	l := openLog(t, fs, dir, 1<<20, Durability{Mode: None}, 0)
	mustAppend(t, l.Log, 0)
	before := l.Written()
	fs.SetCapacity(fs.Used() + 10) // room for part of an entry
	if _, _, err := l.Append(1, 1, payload(1)); err == nil {
		t.Fatal("append past the capacity succeeded")
	}
	if l.Written() != before {
		t.Fatalf("written moved from %d to %d after a failed append", before, l.Written())
	}
	fs.SetCapacity(0)
	pos, _ := mustAppend(t, l.Log, 1)
	if pos != before {
		t.Fatalf("append after the failure at %d, want %d", pos, before)
	}
	l.Close()
	l = openLog(t, fs, dir, 1<<20, Durability{Mode: None}, 0)
	if len(l.entries) != 2 || len(l.report.Corruptions) != 0 {
		t.Fatalf("reopen: %d entries, %v", len(l.entries), l.report.Corruptions)
	}
	checkEntries(t, l.entries, 0)
}
