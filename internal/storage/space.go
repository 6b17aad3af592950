package storage

import (
	"fmt"
	"sync"
	"time"
)

// spaceGuard refuses new data when the file system is nearly full.
//
// Statfs is cheap but not free; the guard asks again only when its last
// answer, less what the log has grown since, comes near the reserve, or
// after spaceRecheck. Between asks it assumes the worst: every byte written
// since came off the free space.
type spaceGuard struct {
	mu struct {
		sync.Mutex
		free      int64     // free bytes at the last ask
		writtenAt uint64    // log position at the last ask
		askedAt   time.Time // when
	}
}

const spaceRecheck = time.Second

// checkSpace returns ErrDiskFull if writing n more bytes would take the
// free space below the reserve.
func (e *Engine) checkSpace(n int) error {
	if e.opts.MinFreeBytes < 0 {
		return nil
	}
	g := &e.space
	g.mu.Lock()
	defer g.mu.Unlock()
	written := e.log.Written()
	estimate := g.mu.free - int64(written-g.mu.writtenAt) - int64(n)
	if estimate >= 2*e.opts.MinFreeBytes && time.Since(g.mu.askedAt) < spaceRecheck {
		return nil
	}
	free, err := e.opts.FS.FreeSpace(e.opts.Dir)
	if err != nil {
		return fmt.Errorf("%w: free space: %v", ErrStorage, err)
	}
	g.mu.free, g.mu.writtenAt, g.mu.askedAt = free, written, time.Now()
	if free-int64(n) < e.opts.MinFreeBytes {
		return fmt.Errorf("%w: %d bytes free, the reserve is %d", ErrDiskFull, free, e.opts.MinFreeBytes)
	}
	return nil
}
