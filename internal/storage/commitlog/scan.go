package commitlog

// Recovery.
//
// Open lists the segment files, checks their headers, and scans entries
// from a starting position (the storage engine's checkpoint) to the end of
// the log, handing each valid entry to the caller in log order. The scan of
// a segment stops at the first entry that is not valid: a zero length word
// (end of data), a length that runs past the file (a torn write), or a CRC
// mismatch. What follows in the last segment is a torn tail: it is logged
// with its location and truncated, so that new appends continue from the
// last valid entry. In an older segment the bytes are left as they are (a
// reader checks every entry's CRC) and the damage is logged.
//
// A segment whose header is damaged is renamed with the suffix ".corrupt"
// and left for an operator, unless it is the last one and holds no entry,
// the trace of a crash during its creation, which is removed. Nothing in
// recovery panics or refuses to open because of damaged bytes.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"path/filepath"
	"sort"

	"github.com/weir-io/weir/internal/vfs"
)

// ScanReport says what recovery found.
type ScanReport struct {
	Segments    int               // segments opened
	Entries     int               // entries handed to the caller
	Bytes       uint64            // bytes scanned
	Corruptions []CorruptionError // damage found, torn tails included
	Truncated   uint64            // bytes cut from the tail
}

// Open opens (creating if needed) the log in opts.Dir, calls replay for
// every valid entry at or after position from, in order, and starts the
// flusher. The entry's payload is valid only during the call. An error from
// replay stops the scan and is returned.
func Open(opts Options, from uint64, replay func(Entry) error) (*Log, ScanReport, error) {
	if opts.FS == nil {
		opts.FS = vfs.Default
	}
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PageCacheWindow == 0 {
		opts.PageCacheWindow = DefaultPageCacheWindow
	}
	if opts.Observer == nil {
		opts.Observer = noObserver{}
	}
	l := &Log{fs: opts.FS, dir: opts.Dir, opts: opts, logger: opts.Logger}
	var report ScanReport
	if err := l.fs.MkdirAll(l.dir); err != nil {
		return nil, report, fmt.Errorf("create log directory: %w", err)
	}
	segs, err := l.openSegments()
	if err != nil {
		return nil, report, err
	}
	report.Segments = len(segs)
	closeAll := func() {
		for _, s := range segs {
			s.file.Close()
		}
	}
	for i, seg := range segs {
		last := i == len(segs)-1
		if !last {
			// A closed segment's data ends where the next segment starts,
			// or where its file ends if a segment between them was removed
			// (or a failed write left bytes past its end).
			seg.end.Store(min(seg.end.Load(), segs[i+1].base))
		}
		if !last && segs[i+1].base <= from {
			continue // wholly before the starting position
		}
		if err := l.scanSegment(seg, from, last, replay, &report); err != nil {
			closeAll()
			return nil, report, err
		}
	}
	if len(segs) == 0 {
		seg, err := createSegment(l.fs, l.dir, from)
		if err != nil {
			return nil, report, err
		}
		if err := l.fs.SyncDir(l.dir); err != nil {
			seg.file.Close()
			return nil, report, fmt.Errorf("sync log directory: %w", err)
		}
		segs = append(segs, seg)
	}
	l.segments.Store(&segs)
	l.written.Store(segs[len(segs)-1].end.Load())
	l.sync.start(l, l.written.Load())
	return l, report, nil
}

// openSegments opens every segment file with a valid header, sorted.
func (l *Log) openSegments() ([]*segment, error) {
	names, err := l.fs.List(l.dir)
	if err != nil {
		return nil, fmt.Errorf("list log directory: %w", err)
	}
	type found struct {
		base uint64
		path string
	}
	var files []found
	for _, name := range names {
		if base, ok := parseSegmentName(name); ok {
			files = append(files, found{base, filepath.Join(l.dir, name)})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].base < files[j].base })
	var segs []*segment
	for i, f := range files {
		file, err := l.fs.OpenReadWrite(f.path)
		if err != nil {
			return nil, fmt.Errorf("open segment: %w", err)
		}
		size, err := file.Size()
		if err != nil {
			file.Close()
			return nil, fmt.Errorf("size of segment %s: %w", f.path, err)
		}
		if herr := checkSegmentHeader(file, f.base); herr != nil {
			file.Close()
			if i == len(files)-1 && size <= SegmentHeaderSize {
				l.logger.Warn("removing a segment torn while it was created", "segment", f.path, "err", herr)
				if err := l.fs.Remove(f.path); err != nil {
					return nil, fmt.Errorf("remove torn segment: %w", err)
				}
				continue
			}
			l.logger.Error("segment header damaged; setting the file aside", "segment", f.path, "err", herr)
			if err := l.fs.Rename(f.path, f.path+".corrupt"); err != nil {
				return nil, fmt.Errorf("set aside damaged segment: %w", err)
			}
			continue
		}
		segs = append(segs, newSegment(f.base, f.path, file, f.base+uint64(size)))
	}
	return segs, nil
}

// scanSegment replays the valid entries of seg at or after from, and sets
// the segment's end after the last valid entry; in the last segment it
// truncates what follows.
func (l *Log) scanSegment(seg *segment, from uint64, last bool, replay func(Entry) error, report *ScanReport) error {
	size, err := seg.file.Size()
	if err != nil {
		return fmt.Errorf("size of segment %s: %w", seg.name, err)
	}
	limit := seg.base + uint64(size)
	if !last {
		limit = min(limit, seg.end.Load())
	}
	pos := seg.base + SegmentHeaderSize
	if from > pos {
		pos = min(from, limit)
	}
	r := newScanner(seg, pos, limit)
	for {
		e, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var ce *CorruptionError
			if !errors.As(err, &ce) {
				return err
			}
			report.Corruptions = append(report.Corruptions, *ce)
			if last {
				l.logger.Warn("commit log tail torn or damaged; truncating", "err", ce, "bytes", limit-ce.Position)
			} else {
				l.logger.Error("commit log segment damaged before its end; entries after the damage are not replayed", "err", ce)
			}
			break
		}
		if err := replay(e); err != nil {
			return fmt.Errorf("replay entry at %d: %w", e.Position, err)
		}
		report.Entries++
		report.Bytes += uint64(e.Size)
	}
	end := r.pos
	if last {
		if end < seg.base+uint64(size) {
			report.Truncated += seg.base + uint64(size) - end
			if err := seg.file.Truncate(int64(end - seg.base)); err != nil {
				return fmt.Errorf("truncate torn tail of %s: %w", seg.name, err)
			}
		}
		seg.end.Store(end)
	}
	// The flusher starts with everything scanned counted as durable, and
	// it may not be: a killed process leaves its unsynced writes in the
	// page cache, where a power cut after this open would still lose
	// them. Make it so before anything is served from it.
	if err := seg.file.Sync(); err != nil {
		return fmt.Errorf("sync segment %s: %w", seg.name, err)
	}
	return nil
}

// scanner reads a segment's entries sequentially through a large buffer.
type scanner struct {
	seg   *segment
	pos   uint64 // position of the next entry
	limit uint64 // end of the bytes to scan
	buf   []byte // bytes from bufPos
	bufAt uint64
	big   []byte
}

const scanBuffer = 4 << 20

func newScanner(seg *segment, pos, limit uint64) *scanner {
	return &scanner{seg: seg, pos: pos, limit: limit, big: make([]byte, scanBuffer)}
}

// window returns n bytes at the scanner's position, reading as needed.
func (s *scanner) window(n int) ([]byte, error) {
	if s.pos >= s.bufAt && s.pos+uint64(n) <= s.bufAt+uint64(len(s.buf)) {
		off := s.pos - s.bufAt
		return s.buf[off : off+uint64(n)], nil
	}
	want := max(n, scanBuffer)
	if uint64(want) > s.limit-s.pos {
		want = int(s.limit - s.pos)
	}
	if want < n {
		return nil, io.ErrUnexpectedEOF
	}
	if cap(s.big) < want {
		s.big = make([]byte, want)
	}
	s.buf = s.big[:want]
	s.bufAt = s.pos
	if err := s.seg.readAt(s.buf, s.pos); err != nil {
		s.buf = nil
		return nil, err
	}
	return s.buf[:n], nil
}

func (s *scanner) corrupt(err error) error {
	return &CorruptionError{Segment: s.seg.name, Offset: int64(s.pos - s.seg.base), Position: s.pos, Err: err}
}

// next returns the next valid entry, io.EOF at the clean end of the data,
// or a *CorruptionError.
func (s *scanner) next() (Entry, error) {
	if s.pos >= s.limit {
		return Entry{}, io.EOF
	}
	if s.limit-s.pos < 8 {
		return Entry{}, s.corrupt(ErrTorn)
	}
	head, err := s.window(8)
	if err != nil {
		return Entry{}, s.corrupt(fmt.Errorf("%w: %v", ErrTorn, err))
	}
	length := binary.BigEndian.Uint32(head[0:4])
	if length == 0 {
		if s.allZero() {
			return Entry{}, io.EOF
		}
		return Entry{}, s.corrupt(ErrBadLength)
	}
	if length < entryBodyHeader || length > entryBodyHeader+MaxPayload {
		return Entry{}, s.corrupt(fmt.Errorf("%w: %d", ErrBadLength, length))
	}
	size := 8 + int(length)
	if s.pos+uint64(size) > s.limit {
		return Entry{}, s.corrupt(ErrTorn)
	}
	raw, err := s.window(size)
	if err != nil {
		return Entry{}, s.corrupt(fmt.Errorf("%w: %v", ErrTorn, err))
	}
	if crc32.Checksum(raw[8:], castagnoli) != binary.BigEndian.Uint32(raw[4:8]) {
		return Entry{}, s.corrupt(ErrChecksum)
	}
	e := Entry{
		Position:  s.pos,
		Size:      size,
		Kind:      Kind(raw[8]),
		Partition: binary.BigEndian.Uint64(raw[12:20]),
		Payload:   raw[EntryHeaderSize:],
	}
	s.pos += uint64(size)
	return e, nil
}

// allZero reports whether the rest of the scanned range is zeros (space
// that was allocated but never written).
func (s *scanner) allZero() bool {
	for p := s.pos; p < s.limit; {
		n := int(min(uint64(64<<10), s.limit-p))
		saved := s.pos
		s.pos = p
		w, err := s.window(n)
		s.pos = saved
		if err != nil {
			return false
		}
		for _, b := range w {
			if b != 0 {
				return false
			}
		}
		p += uint64(n)
	}
	return true
}
