package commitlog

// Group commit.
//
// An append under the durable policy is acknowledged only after an fsync
// that covers it. Giving every append its own fsync would cap throughput at
// the disk's sync rate (hundreds to a few thousand per second) times the
// append size. Instead, appends and syncs form a pipeline:
//
//  1. An appender writes its entry at the log's written position (holding
//     Log.mu only for the pwrite), learns its end position, and kicks the
//     flusher without blocking (a channel of capacity one: many kicks while
//     the flusher is busy collapse into one).
//  2. The flusher goroutine, woken, reads the written position W, fsyncs
//     every segment that holds data past the synced position S (the old
//     segment too, after a rollover), then publishes S = W and closes the
//     current "synced" channel, replacing it with a fresh one.
//  3. Appenders wait (WaitSynced) until S >= their end position, waking on
//     each close of the channel. All appends written while one fsync ran
//     are covered by the next one, so the number of fsyncs per second
//     stays at the disk's rate while the bytes per fsync grow with load.
//
// Invariants: S <= W; S only grows; every byte below S is on stable
// storage. An fsync error is sticky (see ErrFailed): after it the kernel
// may have dropped dirty pages and marked them clean, so a retry could
// report success for lost data. The log refuses appends until it is
// reopened, when recovery reads back what is really on disk.
//
// The interval policy runs the same flusher on a ticker and does not make
// appenders wait; the none policy syncs only when asked (Sync, checkpoints,
// Close).
//
// Drop-behind. After each sync the flusher tells the kernel that the log's
// bytes more than PageCacheWindow behind the synced position will not be
// read soon (fadvise DONTNEED on clean pages). Without it a log written at
// disk speed fills the page cache with pages nobody reads, evicting what
// others use; and on virtual machines that hand free memory back to the
// host, every new page of cache costs a fault on the host: measured here,
// a 20 s stream of 16 KiB writes with fsyncs fell from 1.3 GB/s to 0.32 GB/s
// after 5 GB without drop-behind and held 2 GB/s with a 256 MiB window.
// Tailing consumers read within the window; older reads fill the cache
// again as reads do.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mode is a durability policy.
type Mode int

// The durability policies.
const (
	// Durable acknowledges an append after an fsync that covers it.
	Durable Mode = iota
	// Interval fsyncs every Durability.Interval; appends do not wait.
	Interval
	// None never fsyncs on its own; the operating system writes back.
	None
)

// Durability is the node's durability policy.
type Durability struct {
	Mode     Mode
	Interval time.Duration // for Interval
}

// ParseDurability parses "durable", "interval:<duration>" (for example
// "interval:10ms") or "none".
func ParseDurability(s string) (Durability, error) {
	switch {
	case s == "durable" || s == "":
		return Durability{Mode: Durable}, nil
	case s == "none":
		return Durability{Mode: None}, nil
	case strings.HasPrefix(s, "interval:"):
		d, err := time.ParseDuration(strings.TrimPrefix(s, "interval:"))
		if err != nil || d <= 0 {
			return Durability{}, fmt.Errorf("durability %q: want interval:<positive duration>", s)
		}
		return Durability{Mode: Interval, Interval: d}, nil
	}
	return Durability{}, fmt.Errorf("durability %q: want durable, interval:<duration> or none", s)
}

func (d Durability) String() string {
	switch d.Mode {
	case Durable:
		return "durable"
	case Interval:
		return "interval:" + d.Interval.String()
	}
	return "none"
}

// syncer is the flusher's state.
type syncer struct {
	log *Log

	kicks chan struct{} // capacity 1
	done  chan struct{}
	wg    sync.WaitGroup

	dropped uint64 // the page cache behind it was dropped; flusher only

	// position mirrors mu.synced, for readers that must not take mu.
	position atomic.Uint64

	mu struct {
		sync.Mutex
		synced uint64        // S: every byte below is durable
		err    error         // sticky fsync error
		ch     chan struct{} // closed when synced or err change
	}
}

func (s *syncer) start(l *Log, synced uint64) {
	s.log = l
	s.kicks = make(chan struct{}, 1)
	s.done = make(chan struct{})
	s.mu.synced = synced
	s.position.Store(synced)
	s.mu.ch = make(chan struct{})
	s.wg.Add(1)
	go s.run(l.opts.Durability)
}

func (s *syncer) run(d Durability) {
	defer s.wg.Done()
	var tick <-chan time.Time
	if d.Mode == Interval {
		t := time.NewTicker(d.Interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-s.done:
			return
		case <-s.kicks:
		case <-tick:
		}
		s.log.syncNow()
	}
}

func (s *syncer) kick() {
	select {
	case s.kicks <- struct{}{}:
	default:
	}
}

func (s *syncer) stop() error {
	close(s.done)
	s.wg.Wait()
	return nil
}

func (s *syncer) failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.err != nil
}

func (s *syncer) state() (uint64, error, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.synced, s.mu.err, s.mu.ch
}

func (s *syncer) publish(synced uint64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.mu.err == nil {
			s.mu.err = err
		}
	} else if synced > s.mu.synced {
		s.mu.synced = synced
		s.position.Store(synced)
	} else {
		return
	}
	close(s.mu.ch)
	s.mu.ch = make(chan struct{})
}

// syncNow fsyncs everything written so far. Only the flusher goroutine and
// Close (after the flusher stopped) call it, so syncs never overlap.
func (l *Log) syncNow() error {
	// Written before segments: a segment added after the load of target
	// holds only bytes past it.
	target := l.written.Load()
	segs := *l.segments.Load()

	synced, err, _ := l.sync.state()
	if err != nil {
		return err
	}
	if target <= synced {
		return nil
	}
	started := time.Now()
	for _, seg := range segs {
		if seg.end.Load() <= synced || !seg.pin() {
			continue
		}
		err := seg.file.Sync()
		seg.unpin()
		if err != nil {
			err = fmt.Errorf("fsync segment %s: %w", seg.name, err)
			l.opts.Observer.Synced(time.Since(started), 0, err)
			l.logger.Error("commit log fsync failed; refusing appends until restart", "err", err)
			l.sync.publish(0, err)
			return err
		}
	}
	elapsed := time.Since(started)
	l.sync.publish(target, nil)
	l.opts.Observer.Synced(elapsed, target-synced, nil)
	l.dropBehind(target, segs)
	return nil
}

// dropBehind drops the cached pages of the log more than the window
// behind synced.
// REQUIRES: called by the flusher (or by Close after it stopped).
func (l *Log) dropBehind(synced uint64, segs []*segment) {
	window := l.opts.PageCacheWindow
	if window < 0 || synced < uint64(window) {
		return
	}
	upTo := synced - uint64(window)
	// Drop in steps of at least 16 MiB, so that the flusher pays a few
	// system calls per step, not one per sync.
	if upTo < l.sync.dropped+16<<20 {
		return
	}
	for _, seg := range segs {
		from, to := max(seg.base, l.sync.dropped), min(seg.end.Load(), upTo)
		if from >= to || !seg.pin() {
			continue
		}
		_ = seg.file.DropCache(int64(from-seg.base), int64(to-from))
		seg.unpin()
	}
	l.sync.dropped = upTo
}

// Synced returns the position below which everything is durable.
func (l *Log) Synced() uint64 {
	synced, _, _ := l.sync.state()
	return synced
}

// WaitSynced blocks until everything below pos is durable, the context
// ends, or an fsync fails (ErrFailed).
func (l *Log) WaitSynced(ctx context.Context, pos uint64) error {
	for {
		synced, err, ch := l.sync.state()
		if synced >= pos {
			return nil
		}
		if err != nil {
			return errors.Join(ErrFailed, err)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// SyncProgress returns a channel closed when the synced position (or the
// sticky error) next changes.
func (l *Log) SyncProgress() <-chan struct{} {
	_, _, ch := l.sync.state()
	return ch
}

// SyncedPosition returns the position below which every byte is durable,
// without waiting for the flusher's lock.
func (l *Log) SyncedPosition() uint64 { return l.sync.position.Load() }

// Sync makes everything appended before the call durable, whatever the
// policy, and returns when it is.
func (l *Log) Sync(ctx context.Context) error {
	l.mu.Lock()
	closed := l.mu.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	target := l.written.Load()
	l.sync.kick()
	return l.WaitSynced(ctx, target)
}
