package broker

// Waking long-polling fetches.
//
// A fetch that found fewer than min_bytes waits on the arrival channel,
// which is closed (and replaced) when there may be more to read. What
// "more to read" means follows the high watermark: under the durable
// policy, records become readable when the commit log has synced them, so
// the fetches wake at each sync that moved the synced position (one
// wake-up per group commit, however many produces it covered); under the
// other policies, records are readable once appended, and each produce
// wakes them.

import (
	"context"

	"github.com/weir-io/weir/internal/storage/commitlog"
)

// dataArrival returns a channel that is closed when there may be more to
// read.
func (b *Broker) dataArrival() <-chan struct{} {
	b.arrival.Lock()
	defer b.arrival.Unlock()
	if b.arrival.ch == nil {
		b.arrival.ch = make(chan struct{})
	}
	return b.arrival.ch
}

// dataArrived wakes the waiting fetches.
func (b *Broker) dataArrived() {
	b.arrival.Lock()
	defer b.arrival.Unlock()
	if b.arrival.ch != nil {
		close(b.arrival.ch)
		b.arrival.ch = nil
	}
}

// wakesOnSync reports whether fetches wake on syncs rather than on
// produces.
func (b *Broker) wakesOnSync() bool {
	return b.engine.Durability().Mode == commitlog.Durable
}

// forwardSyncs wakes the waiting fetches at every sync, until ctx ends.
func (b *Broker) forwardSyncs(ctx context.Context) {
	// The next channel is taken before the fetches are woken: a sync
	// landing in between closes it, rather than one nobody waits on.
	next := b.engine.SyncProgress()
	for {
		select {
		case <-next:
			next = b.engine.SyncProgress()
			b.dataArrived()
		case <-ctx.Done():
			return
		}
	}
}
