package storage

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// spaceGuard refuses new data when the file system is nearly full.
//
// Asking the file system (statfs) for every append would cost a syscall
// each; instead the guard keeps a budget: the bytes that may be written
// before it asks again, set at each ask to the free space less twice the
// reserve. An append takes its bytes from the budget with one atomic add.
// The guard asks again when the budget runs out (near the reserve every
// append asks, which is when precision matters) and after spaceRecheck,
// since other processes use the disk too.
type spaceGuard struct {
	budget  atomic.Int64
	askedAt atomic.Int64 // unix nanoseconds of the last ask; 0: never
	mu      sync.Mutex   // serialises asks
}

const spaceRecheck = time.Second

// checkSpace returns ErrDiskFull if writing n more bytes would take the
// free space below the reserve.
func (e *Engine) checkSpace(n int) error {
	if e.opts.MinFreeBytes < 0 {
		return nil
	}
	g := &e.space
	fresh := time.Now().UnixNano()-g.askedAt.Load() < int64(spaceRecheck)
	if g.budget.Add(-int64(n)) >= 0 && fresh {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	free, err := e.opts.FS.FreeSpace(e.opts.Dir)
	if err != nil {
		return fmt.Errorf("%w: free space: %v", ErrStorage, err)
	}
	g.askedAt.Store(time.Now().UnixNano())
	g.budget.Store(free - 2*e.opts.MinFreeBytes - int64(n))
	if free-int64(n) < e.opts.MinFreeBytes {
		return fmt.Errorf("%w: %d bytes free, the reserve is %d", ErrDiskFull, free, e.opts.MinFreeBytes)
	}
	return nil
}
