package commitlog

// Appends and the write group.
//
// Every append is a write into the active segment at the written position.
// Letting each appender take a mutex and pwrite its own entry serialises
// the appenders on the mutex: on a machine with few cores, every handoff of
// the mutex costs a goroutine switch, and the writes themselves are small.
// Instead appenders form write groups, as RocksDB's and Pebble's commit
// pipelines do:
//
//  1. An appender encodes its entry (header, CRC, payload) without any lock
//     and puts a request on the queue.
//  2. If no leader is writing, it becomes the leader; otherwise it waits.
//  3. The leader takes the whole queue (its own request and every one that
//     arrived while the previous group was written), and, holding Log.mu,
//     assigns positions in queue order and writes the group with one
//     pwritev per segment it touches, straight from the appenders' buffers.
//  4. It completes every request of the group, and writes the next group if
//     requests arrived meanwhile (a few groups at most, since its own caller
//     waits), then hands leadership to the first waiting request, or ends
//     it when there is none.
//
// An append returns only after its own bytes were written, so the
// semantics are those of a pwrite per append: when the write of a run
// fails, every entry of the run, and of the rest of the group, fails; the
// bytes are truncated away and the written position does not move.
//
// Invariants: positions are assigned in queue order, and an appender's
// entry is in the queue before the appender returns, so two appends by one
// goroutine (or ordered by a lock held across them, as the storage engine
// does per partition) are written in that order. At most one leader writes
// at a time (queue.writing).

import (
	"fmt"
	"sync"
)

// request is one append waiting in the queue.
type request struct {
	header [EntryHeaderSize]byte
	parts  [][]byte // header[:], then the payload's parts
	size   int
	pos    uint64
	err    error
	// done receives one value: false when the request was written (pos or
	// err set), true when it must lead the next group.
	done chan bool
}

var requestPool = sync.Pool{New: func() any { return &request{done: make(chan bool, 1)} }}

// writeQueue holds the requests waiting for a leader.
type writeQueue struct {
	mu      sync.Mutex
	pending []*request
	spare   []*request
	writing bool // a leader is writing a group
	closed  bool
}

func (q *writeQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}

// Append writes one entry and returns its position and size. The entry is
// in the page cache when Append returns; WaitSynced tells when it is
// durable. After a failed write nothing of the entry is visible.
//
// The payload is the concatenation of parts.
func (l *Log) Append(kind Kind, partition uint64, parts ...[]byte) (uint64, int, error) {
	n := 0
	for _, part := range parts {
		n += len(part)
	}
	if n > MaxPayload {
		return 0, 0, fmt.Errorf("%w: %d bytes", ErrTooLarge, n)
	}
	size := EntrySize(n)
	req := requestPool.Get().(*request)
	putEntryHeader(req.header[:], kind, partition, parts...)
	req.parts = append(append(req.parts[:0], req.header[:]), parts...)
	req.size, req.pos, req.err = size, 0, nil
	defer func() {
		clear(req.parts)
		requestPool.Put(req)
	}()

	q := &l.queue
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return 0, 0, ErrClosed
	}
	q.pending = append(q.pending, req)
	lead := !q.writing
	q.writing = true
	q.mu.Unlock()

	if !lead {
		lead = <-req.done
	}
	if lead {
		l.lead(req)
	}
	if req.err != nil {
		return 0, 0, req.err
	}
	return req.pos, size, nil
}

// lead writes groups, the first of which includes own, while requests keep
// arriving (up to maxLeaderGroups: the leader's own caller is waiting), then
// hands leadership to the first waiting request, or ends it. Writing on
// instead of handing over after every group saves a goroutine wakeup per
// group, time in which nothing would be written.
func (l *Log) lead(own *request) {
	q := &l.queue
	for round := 0; ; round++ {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.writing = false
			q.mu.Unlock()
			return
		}
		if round == maxLeaderGroups {
			next := q.pending[0]
			q.mu.Unlock()
			next.done <- true
			return
		}
		group := q.pending
		q.pending = q.spare[:0]
		q.mu.Unlock()

		l.writeGroup(group)
		l.observeGroup(group)
		for _, r := range group {
			if r != own {
				r.done <- false
			}
		}

		q.mu.Lock()
		clear(group)
		q.spare = group[:0]
		q.mu.Unlock()
	}
}

// maxLeaderGroups bounds the groups one leader writes.
const maxLeaderGroups = 8

// observeGroup tells the observer what of a group was written.
// REQUIRES: called by the leader, before it completes the group's requests.
func (l *Log) observeGroup(group []*request) {
	entries, bytes := 0, 0
	for _, r := range group {
		if r.err == nil {
			entries++
			bytes += r.size
		}
	}
	if entries > 0 {
		l.opts.Observer.WroteGroup(entries, bytes)
	}
}

// writeGroup assigns positions to the group's entries and writes them.
func (l *Log) writeGroup(group []*request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fail := func(rs []*request, err error) {
		for _, r := range rs {
			r.err = err
		}
	}
	if l.mu.closed {
		fail(group, ErrClosed)
		return
	}
	if l.sync.failed() {
		fail(group, ErrFailed)
		return
	}
	for i := 0; i < len(group); {
		seg, err := l.activeForLocked(group[i].size)
		if err != nil {
			fail(group[i:], err)
			return
		}
		start := l.written.Load()
		used := int64(start - seg.base)
		// The run [i, j) fits in this segment.
		j, n := i+1, group[i].size
		for j < len(group) && used+int64(n+group[j].size) <= l.opts.SegmentSize {
			n += group[j].size
			j++
		}
		iov := l.mu.iov[:0]
		for _, r := range group[i:j] {
			iov = append(iov, r.parts...)
		}
		l.mu.iov = iov[:0]
		_, err = seg.file.WriteVAt(iov, int64(start-seg.base))
		clear(iov)
		if err != nil {
			// Give back what a short write took; if that fails too, the
			// bytes lie past the written position, where nothing reads
			// them and the next write overwrites them.
			_ = seg.file.Truncate(int64(start - seg.base))
			fail(group[i:], fmt.Errorf("append to segment %s: %w", seg.name, err))
			return
		}
		pos := start
		for _, r := range group[i:j] {
			r.pos = pos
			pos += uint64(r.size)
		}
		l.written.Store(pos)
		seg.end.Store(pos)
		i = j
	}
	if l.opts.Durability.Mode == Durable {
		l.sync.kick()
	}
}
