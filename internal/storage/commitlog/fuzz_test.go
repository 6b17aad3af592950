package commitlog

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/weir-io/weir/internal/vfs"
)

// FuzzCommitlogScan puts arbitrary bytes after a valid segment header and
// opens the log: Open must not fail or panic, every entry it replays must be
// one whose bytes and CRC are in the file, the damaged tail must be cut,
// and appends must work after recovery.
func FuzzCommitlogScan(f *testing.F) {
	var two []byte
	two = append(two, entryBytes(1, 1, []byte("first"))...)
	two = append(two, entryBytes(2, 1<<40, []byte("second entry"))...)
	f.Add([]byte{})
	f.Add(two)
	f.Add(two[:len(two)-1])
	f.Add(append(append([]byte(nil), two...), make([]byte, 64)...))
	f.Add(append(append([]byte(nil), two...), 0, 0, 0, 0, 1, 2, 3))
	f.Add(binary.BigEndian.AppendUint32(nil, 0xffffffff))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		name := filepath.Join(dir, segmentName(0))
		if err := os.WriteFile(name, append(encodeSegmentHeader(0), data...), 0o644); err != nil {
			t.Fatal(err)
		}
		var entries []Entry
		l, report, err := Open(Options{Dir: dir, Durability: Durability{Mode: None}, Logger: quiet}, 0, func(e Entry) error {
			e.Payload = append([]byte(nil), e.Payload...)
			entries = append(entries, e)
			return nil
		})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer l.Close()
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if report.Entries != len(entries) {
			t.Fatalf("report says %d entries, replayed %d", report.Entries, len(entries))
		}
		pos := uint64(SegmentHeaderSize)
		for _, e := range entries {
			if e.Position != pos || e.End() > uint64(len(raw)) {
				t.Fatalf("entry at %d (size %d), expected at %d in a file of %d bytes", e.Position, e.Size, pos, len(raw))
			}
			b := raw[e.Position:e.End()]
			if int(binary.BigEndian.Uint32(b)) != e.Size-8 || crc32.Checksum(b[8:], castagnoli) != binary.BigEndian.Uint32(b[4:]) {
				t.Fatalf("entry at %d does not check", e.Position)
			}
			if Kind(b[8]) != e.Kind || binary.BigEndian.Uint64(b[12:20]) != e.Partition || !bytes.Equal(b[EntryHeaderSize:], e.Payload) {
				t.Fatalf("entry at %d replayed with other contents than the file holds", e.Position)
			}
			pos = e.End()
		}
		if uint64(len(raw)) != pos || l.Written() != pos {
			t.Fatalf("after recovery: file %d bytes, written %d, valid data ends at %d", len(raw), l.Written(), pos)
		}
		if report.Truncated != uint64(SegmentHeaderSize+len(data))-pos {
			t.Fatalf("truncated %d, cut %d", report.Truncated, uint64(SegmentHeaderSize+len(data))-pos)
		}
		at, size, err := l.Append(3, 3, []byte("after recovery"))
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		if e, _, err := l.ReadEntry(at, size, nil); err != nil || string(e.Payload) != "after recovery" {
			t.Fatalf("read back: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		n := 0
		l2, report, err := Open(Options{FS: vfs.Default, Dir: dir, Logger: quiet}, 0, func(Entry) error { n++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		defer l2.Close()
		if n != len(entries)+1 || len(report.Corruptions) != 0 {
			t.Fatalf("reopen: %d entries (want %d), corruptions %v", n, len(entries)+1, report.Corruptions)
		}
	})
}
