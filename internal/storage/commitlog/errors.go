package commitlog

import (
	"errors"
	"fmt"
)

// Sentinel errors.
var (
	// ErrClosed is returned by operations on a closed log.
	ErrClosed = errors.New("commitlog: closed")
	// ErrFailed is returned by appends after an fsync failed: the kernel may
	// have dropped the dirty pages, so nothing written since the last
	// successful sync can be promised durable. Reopening the log recovers.
	ErrFailed = errors.New("commitlog: an fsync failed; the log is read-only until reopened")
	// ErrTooLarge is returned for a payload over MaxPayload.
	ErrTooLarge = errors.New("commitlog: entry too large")
	// ErrNotFound is returned for a position in no segment.
	ErrNotFound = errors.New("commitlog: position not in any segment")
	// ErrChecksum says an entry's CRC does not match its bytes.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrTorn says an entry's length runs past the end of its file.
	ErrTorn = errors.New("entry runs past the end of the segment")
	// ErrBadLength says an entry's length word is impossible.
	ErrBadLength = errors.New("impossible entry length")
	// ErrBadHeader says a segment's header is not a valid header.
	ErrBadHeader = errors.New("bad segment header")
)

// CorruptionError locates bytes in the log that are not what was written:
// a torn tail after a crash, or damage on the disk. Recovery and reads
// report it; errors.Is matches the cause (ErrChecksum, ErrTorn, ...).
type CorruptionError struct {
	Segment  string // file name
	Offset   int64  // byte offset in the file
	Position uint64 // log position
	Err      error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("commitlog: corruption in segment %s at offset %d (position %d): %v",
		e.Segment, e.Offset, e.Position, e.Err)
}

func (e *CorruptionError) Unwrap() error { return e.Err }
