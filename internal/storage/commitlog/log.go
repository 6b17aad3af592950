package commitlog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/weir-io/weir/internal/vfs"
)

// DefaultSegmentSize is the size at which the active segment is closed and
// a new one started, unless Options say otherwise.
const DefaultSegmentSize = 128 << 20

// Options configure a Log.
type Options struct {
	FS          vfs.FS // vfs.Default when nil
	Dir         string
	SegmentSize int64 // DefaultSegmentSize when zero
	Durability  Durability
	// PageCacheWindow is how much of the log, behind the synced position,
	// stays in the page cache on the writer's account (512 MiB when zero;
	// negative: all of it, as Kafka leaves it). See sync.go.
	PageCacheWindow int64
	Logger          *slog.Logger // slog.Default() when nil
	// Observer is told of write groups and syncs (observer.go); nil
	// tells nobody.
	Observer Observer
}

// DefaultPageCacheWindow is the page cache window when Options leave it 0.
const DefaultPageCacheWindow = 512 << 20

// Entry is one entry read from the log.
type Entry struct {
	Position  uint64 // position of the entry's first byte
	Size      int    // bytes the entry takes, header included
	Kind      Kind
	Partition uint64
	Payload   []byte
}

// End returns the position just past the entry.
func (e Entry) End() uint64 { return e.Position + uint64(e.Size) }

// SegmentInfo describes one segment.
type SegmentInfo struct {
	Base   uint64 // position of the first byte (the segment header)
	End    uint64 // position just past the last written entry
	Active bool   // the segment appends go to
}

// Log is an open commit log. It is safe for concurrent use: appends are
// serialised by mu, reads go to the file without taking it.
type Log struct {
	fs     vfs.FS
	dir    string
	opts   Options
	logger *slog.Logger

	// segments is the sorted list of live segments, replaced (never
	// modified) under mu, read without it.
	segments atomic.Pointer[[]*segment]

	// written is the position just past the last written entry. It is
	// stored under mu, and read without it.
	written atomic.Uint64

	mu struct {
		sync.Mutex
		closed bool
		iov    [][]byte // the leader's vector of a run's buffers
	}

	queue writeQueue
	sync  syncer
}

// activeForLocked returns the segment an entry of size bytes goes to,
// starting a new segment when the active one is full.
// REQUIRES: l.mu is held.
func (l *Log) activeForLocked(size int) (*segment, error) {
	segs := *l.segments.Load()
	active := segs[len(segs)-1]
	used := active.size()
	if used == SegmentHeaderSize || used+int64(size) <= l.opts.SegmentSize {
		return active, nil
	}
	next, err := createSegment(l.fs, l.dir, l.written.Load())
	if err != nil {
		return nil, err
	}
	// The new file must survive a crash before anything in it is
	// acknowledged: sync the directory entry now. The old segment's data
	// is synced by the flusher, which syncs every segment past the synced
	// position.
	if err := l.fs.SyncDir(l.dir); err != nil {
		next.file.Close()
		l.fs.Remove(next.name)
		return nil, fmt.Errorf("sync log directory: %w", err)
	}
	l.written.Store(next.end.Load())
	grown := append(append([]*segment(nil), segs...), next)
	l.segments.Store(&grown)
	return next, nil
}

// ReadEntry reads the entry of size bytes at pos into buf (grown if short)
// and checks it. A damaged entry is reported as a *CorruptionError.
func (l *Log) ReadEntry(pos uint64, size int, buf []byte) (Entry, []byte, error) {
	if size < EntryHeaderSize || size > EntrySize(MaxPayload) {
		return Entry{}, buf, fmt.Errorf("commitlog: read of %d bytes: %w", size, ErrBadLength)
	}
	seg := l.pin(pos)
	if seg == nil {
		return Entry{}, buf, fmt.Errorf("%w: %d", ErrNotFound, pos)
	}
	defer seg.unpin()
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if err := seg.readAt(buf, pos); err != nil {
		return Entry{}, buf, l.corruption(seg, pos, fmt.Errorf("%w: %v", ErrTorn, err))
	}
	e, err := decodeEntry(buf, pos)
	if err != nil {
		return Entry{}, buf, l.corruption(seg, pos, err)
	}
	return e, buf, nil
}

// EntryHead is what ReadPayloads tells of each entry it reads.
type EntryHead struct {
	Kind      Kind
	Partition uint64
	Size      int    // bytes the entry takes, header included
	Prefix    []byte // the first skip bytes of the payload
}

// ReadPayloads reads entries that lie back to back from pos within one
// segment, sizes[i] bytes each, checks each (length and CRC), and stores
// their payloads, less the first skip bytes of each, back to back in dst,
// which must be exactly that long. The headers and skipped prefixes go to
// a scratch buffer and the rest straight to dst (one preadv), so that the
// payloads need no move. check is called for each entry after its CRC
// matched; a damaged entry is a *CorruptionError.
func (l *Log) ReadPayloads(pos uint64, sizes []int, skip int, dst []byte, check func(i int, h EntryHead) error) error {
	seg := l.pin(pos)
	if seg == nil {
		return fmt.Errorf("%w: %d", ErrNotFound, pos)
	}
	defer seg.unpin()
	head := EntryHeaderSize + skip
	scratch := make([]byte, len(sizes)*head)
	iov := make([][]byte, 0, 2*len(sizes))
	total, at := 0, 0
	for i, size := range sizes {
		if size < head || at+size-head > len(dst) {
			return fmt.Errorf("commitlog: read of an entry of %d bytes into %d: %w", size, len(dst)-at, ErrBadLength)
		}
		iov = append(iov, scratch[i*head:(i+1)*head], dst[at:at+size-head])
		at += size - head
		total += size
	}
	if at != len(dst) {
		return fmt.Errorf("commitlog: payloads of %d bytes for a buffer of %d: %w", at, len(dst), ErrBadLength)
	}
	if pos+uint64(total) > seg.end.Load() {
		return l.corruption(seg, pos, fmt.Errorf("%w: read of %d bytes past the end of the segment", ErrTorn, total))
	}
	if _, err := seg.file.ReadVAt(iov, int64(pos-seg.base)); err != nil {
		return l.corruption(seg, pos, fmt.Errorf("%w: %v", ErrTorn, err))
	}
	at = 0
	for i, size := range sizes {
		h := scratch[i*head : (i+1)*head]
		body := dst[at : at+size-head]
		if int(binary.BigEndian.Uint32(h[0:4])) != size-8 {
			return l.corruption(seg, pos, fmt.Errorf("%w: length word %d, expected %d", ErrBadLength, binary.BigEndian.Uint32(h[0:4]), size-8))
		}
		crc := crc32.Update(0, castagnoli, h[8:])
		if crc32.Update(crc, castagnoli, body) != binary.BigEndian.Uint32(h[4:8]) {
			return l.corruption(seg, pos, ErrChecksum)
		}
		eh := EntryHead{Kind: Kind(h[8]), Partition: binary.BigEndian.Uint64(h[12:20]), Size: size, Prefix: h[EntryHeaderSize:]}
		if err := check(i, eh); err != nil {
			return err
		}
		pos += uint64(size)
		at += size - head
	}
	return nil
}

// decodeEntry checks the entry that fills buf exactly.
func decodeEntry(buf []byte, pos uint64) (Entry, error) {
	length := binary.BigEndian.Uint32(buf[0:4])
	if int(length) != len(buf)-8 {
		return Entry{}, fmt.Errorf("%w: length word %d, expected %d", ErrBadLength, length, len(buf)-8)
	}
	if crc32.Checksum(buf[8:], castagnoli) != binary.BigEndian.Uint32(buf[4:8]) {
		return Entry{}, ErrChecksum
	}
	return Entry{
		Position:  pos,
		Size:      len(buf),
		Kind:      Kind(buf[8]),
		Partition: binary.BigEndian.Uint64(buf[12:20]),
		Payload:   buf[EntryHeaderSize:],
	}, nil
}

func (l *Log) corruption(seg *segment, pos uint64, err error) error {
	return &CorruptionError{Segment: seg.name, Offset: int64(pos - seg.base), Position: pos, Err: err}
}

// pin finds and pins the segment holding pos, or returns nil.
func (l *Log) pin(pos uint64) *segment {
	segs := *l.segments.Load()
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > pos }) - 1
	if i < 0 || pos >= segs[i].end.Load() || !segs[i].pin() {
		return nil
	}
	return segs[i]
}

// SegmentBase returns the base position of the segment holding pos, and
// false if no live segment holds it.
func (l *Log) SegmentBase(pos uint64) (uint64, bool) {
	segs := *l.segments.Load()
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > pos }) - 1
	if i < 0 || pos >= segs[i].end.Load() {
		return 0, false
	}
	return segs[i].base, true
}

// ScanSegment calls fn for every valid entry of the segment starting at
// base, in order, stopping at the first damaged one (reported as a
// *CorruptionError). The payload is valid only during the call.
func (l *Log) ScanSegment(base uint64, fn func(Entry) error) error {
	seg := l.pin(base)
	if seg == nil || seg.base != base {
		if seg != nil {
			seg.unpin()
		}
		return fmt.Errorf("scan segment %d: %w", base, ErrNotFound)
	}
	defer seg.unpin()
	r := newScanner(seg, base+SegmentHeaderSize, seg.end.Load())
	for {
		e, err := r.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

// Written returns the position just past the last appended entry.
func (l *Log) Written() uint64 { return l.written.Load() }

// Segments describes the live segments, oldest first.
func (l *Log) Segments() []SegmentInfo {
	segs := *l.segments.Load()
	infos := make([]SegmentInfo, len(segs))
	for i, s := range segs {
		infos[i] = SegmentInfo{Base: s.base, End: s.end.Load(), Active: i == len(segs)-1}
	}
	return infos
}

// DiskUsage returns the bytes the segment files hold.
func (l *Log) DiskUsage() int64 {
	var total int64
	for _, s := range *l.segments.Load() {
		total += s.size()
	}
	return total
}

// RemoveSegment deletes the segment starting at base. The active segment
// cannot be removed. Reads in flight finish on the open file.
func (l *Log) RemoveSegment(base uint64) error {
	l.mu.Lock()
	segs := *l.segments.Load()
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base >= base })
	if i == len(segs) || segs[i].base != base {
		l.mu.Unlock()
		return fmt.Errorf("remove segment %d: %w", base, ErrNotFound)
	}
	if i == len(segs)-1 {
		l.mu.Unlock()
		return fmt.Errorf("remove segment %d: it is the active segment", base)
	}
	seg := segs[i]
	rest := append(append([]*segment(nil), segs[:i]...), segs[i+1:]...)
	l.segments.Store(&rest)
	l.mu.Unlock()

	err := l.fs.Remove(seg.name)
	seg.unpin()
	if err != nil {
		return fmt.Errorf("remove segment %s: %w", seg.name, err)
	}
	return l.fs.SyncDir(l.dir)
}

// Close syncs what was written (unless an fsync already failed) and closes
// the files. Appends after Close fail with ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return nil
	}
	l.mu.closed = true
	l.mu.Unlock()
	l.queue.close()

	err := l.sync.stop()
	if err == nil && !l.sync.failed() {
		err = l.syncNow()
	}
	for _, s := range *l.segments.Load() {
		s.unpin()
		if s.closeErr != nil && err == nil {
			err = s.closeErr
		}
	}
	return err
}
