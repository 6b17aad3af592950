package commitlog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestReadPayloads reads back-to-back entries without their prefixes, and
// finds a flipped byte in a payload or in a skipped prefix.
func TestReadPayloads(t *testing.T) {
	dir := t.TempDir()
	l, _, err := Open(Options{Dir: dir}, 0, func(Entry) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	payloads := [][]byte{[]byte("PPPPaaaaa"), []byte("QQQQbb"), []byte("RRRRccccccc")}
	var sizes []int
	var first uint64
	var want []byte
	for i, p := range payloads {
		pos, size, err := l.Append(1, uint64(i+7), p[:4], p[4:])
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = pos
		}
		sizes = append(sizes, size)
		want = append(want, p[4:]...)
	}
	read := func() ([]byte, []EntryHead, error) {
		dst := make([]byte, len(want))
		var heads []EntryHead
		err := l.ReadPayloads(first, sizes, 4, dst, func(i int, h EntryHead) error {
			h.Prefix = append([]byte(nil), h.Prefix...)
			heads = append(heads, h)
			return nil
		})
		return dst, heads, err
	}
	got, heads, err := read()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
	for i, h := range heads {
		if h.Kind != 1 || h.Partition != uint64(i+7) || h.Size != sizes[i] || !bytes.Equal(h.Prefix, payloads[i][:4]) {
			t.Fatalf("entry %d: %+v", i, h)
		}
	}

	name := filepath.Join(dir, segmentName(0))
	flip := func(at int64) {
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b := make([]byte, 1)
		f.ReadAt(b, at)
		b[0] ^= 0x40
		f.WriteAt(b, at)
	}
	// The second entry's payload, then the first entry's skipped prefix.
	for _, at := range []int64{int64(first) + int64(sizes[0]) + EntryHeaderSize + 5, int64(first) + EntryHeaderSize + 1} {
		flip(at)
		var ce *CorruptionError
		if _, _, err := read(); !errors.As(err, &ce) || !errors.Is(err, ErrChecksum) {
			t.Fatalf("flipped byte at %d: %v, want a checksum CorruptionError", at, err)
		}
		flip(at)
	}
}
