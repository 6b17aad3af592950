package commitlog

import "time"

// Observer is told of the log's write groups and syncs, for metrics. The
// leader of a write group calls WroteGroup after writing it, before its
// appenders return; the flusher calls Synced after each round of fsyncs.
// Both are on the append path: an Observer must be safe for concurrent
// use, cheap, must not block, and must not call the Log.
type Observer interface {
	// WroteGroup reports a write group that reached the file: entries
	// appends of bytes bytes in all, headers included, written together
	// (see append.go).
	WroteGroup(entries, bytes int)
	// Synced reports one round of the flusher: the fsyncs that made bytes
	// more bytes of the log durable took d. A failed round reports its
	// error (the log then refuses appends until it is reopened).
	Synced(d time.Duration, bytes uint64, err error)
}

// noObserver is the Observer of a log that was given none.
type noObserver struct{}

func (noObserver) WroteGroup(int, int)                 {}
func (noObserver) Synced(time.Duration, uint64, error) {}
