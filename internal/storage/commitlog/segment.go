package commitlog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/weir-io/weir/internal/vfs"
)

const segmentSuffix = ".log"

// segment is one file of the log.
//
// Concurrency: base and file never change. end is written by the appender
// holding Log.mu and read without locks. A reader pins the segment (pin)
// before reading so that removal closes the file only after the last read.
type segment struct {
	base uint64
	name string // path
	file vfs.File

	end atomic.Uint64 // position just past the last written entry

	refs      atomic.Int64 // readers in flight, plus one while the log holds it
	closeOnce sync.Once
	closeErr  error
}

func segmentName(base uint64) string {
	return fmt.Sprintf("%020d%s", base, segmentSuffix)
}

// parseSegmentName returns the base position a segment file name encodes.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	base, err := strconv.ParseUint(digits, 10, 64)
	return base, err == nil
}

func newSegment(base uint64, path string, file vfs.File, end uint64) *segment {
	s := &segment{base: base, name: path, file: file}
	s.end.Store(end)
	s.refs.Store(1)
	return s
}

// createSegment creates the file of a new segment and writes its header.
func createSegment(fs vfs.FS, dir string, base uint64) (*segment, error) {
	path := filepath.Join(dir, segmentName(base))
	f, err := fs.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create segment %d: %w", base, err)
	}
	if _, err := f.WriteAt(encodeSegmentHeader(base), 0); err != nil {
		f.Close()
		fs.Remove(path)
		return nil, fmt.Errorf("write header of segment %d: %w", base, err)
	}
	return newSegment(base, path, f, base+SegmentHeaderSize), nil
}

// checkSegmentHeader validates the header of a segment file.
func checkSegmentHeader(f vfs.File, base uint64) error {
	h := make([]byte, SegmentHeaderSize)
	if _, err := f.ReadAt(h, 0); err != nil {
		return fmt.Errorf("%w: %v", ErrBadHeader, err)
	}
	switch {
	case !bytes.Equal(h[0:8], segmentMagic[:]):
		return fmt.Errorf("%w: wrong magic", ErrBadHeader)
	case binary.BigEndian.Uint32(h[24:28]) != crc32.Checksum(h[0:24], castagnoli):
		return fmt.Errorf("%w: header checksum mismatch", ErrBadHeader)
	case binary.BigEndian.Uint32(h[8:12]) != Version:
		return fmt.Errorf("%w: unsupported version %d", ErrBadHeader, binary.BigEndian.Uint32(h[8:12]))
	case binary.BigEndian.Uint64(h[16:24]) != base:
		return fmt.Errorf("%w: base position %d does not match the file name", ErrBadHeader, binary.BigEndian.Uint64(h[16:24]))
	}
	return nil
}

// pin takes a reference for a read; it fails if the segment is closing.
func (s *segment) pin() bool {
	for {
		n := s.refs.Load()
		if n <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// unpin drops a reference, closing the file when the last one goes.
func (s *segment) unpin() {
	if s.refs.Add(-1) == 0 {
		s.closeOnce.Do(func() { s.closeErr = s.file.Close() })
	}
}

// readAt reads len(buf) bytes at log position pos.
func (s *segment) readAt(buf []byte, pos uint64) error {
	n, err := s.file.ReadAt(buf, int64(pos-s.base))
	if n == len(buf) {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("short read")
	}
	return err
}

// size returns the bytes of the segment's file that hold data.
func (s *segment) size() int64 { return int64(s.end.Load() - s.base) }
