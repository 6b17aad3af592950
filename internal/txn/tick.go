package txn

import (
	"maps"
	"slices"
	"time"
)

// Tick does what is due at now, as Kafka's scheduled tasks do:
//
//   - a transaction open longer than its timeout is aborted, its epoch
//     bumped first so that its producer is fenced (its markers come with
//     the Write, as after EndTxn);
//   - a transaction whose markers are all written but whose completion
//     was not (its append failed) is completed again;
//   - every Config.ExpirationCheckInterval (the first an interval after
//     Recover, or after the first Tick), transactional ids without an
//     open transaction unused for Config.IDExpiration are deleted
//     (tombstones).
//
// The returned Write is handled like a request's: append its Records,
// Finish, wait for durability, write its Markers. Ids busy with another
// write are left for a later Tick.
func (c *Coordinator) Tick(now time.Time) *Write {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &Write{}
	nowMs := millis(now)
	for _, id := range slices.Sorted(maps.Keys(c.active)) {
		e := c.active[id]
		switch {
		case e.pending != nil:
		case e.meta.state == StateOngoing && e.meta.startMs+int64(e.meta.timeoutMs) < nowMs:
			after, err := c.fenceAbort(w, e, nowMs)
			if err != nil {
				continue // no producer id for the rotation: try again later
			}
			c.stage(w, e, after, noEpoch).applied = func() { c.stats.timedOut++ }
		case e.meta.preparing() && len(e.unmarked) == 0:
			c.stageCompletion(w, e, nowMs)
		}
	}
	if c.nextExpiryCheck.IsZero() {
		c.nextExpiryCheck = now.Add(c.cfg.ExpirationCheckInterval) // the first check, an interval after the start
	} else if !now.Before(c.nextExpiryCheck) {
		c.nextExpiryCheck = now.Add(c.cfg.ExpirationCheckInterval)
		horizon := nowMs - c.cfg.IDExpiration.Milliseconds()
		for _, id := range slices.Sorted(maps.Keys(c.txns)) {
			e := c.txns[id]
			if e.pending == nil && e.meta.expirable() && e.meta.updateMs <= horizon {
				c.stage(w, e, e.meta, e.lastEpoch).remove = true
			}
		}
	}
	return c.seal(w)
}

// NextDeadline returns the earliest time at which Tick has something to
// do (zero when nothing is due): the first timeout of an open
// transaction, or the next expiration check while transactional ids
// exist. A completion to retry is due at once: call Tick regularly (every
// second or so) as well.
func (c *Coordinator) NextDeadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	earliest := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, e := range c.active {
		if e.pending == nil && e.meta.state == StateOngoing {
			earliest(time.UnixMilli(e.meta.startMs + int64(e.meta.timeoutMs) + 1))
		}
	}
	if len(c.txns) > 0 && !c.nextExpiryCheck.IsZero() {
		earliest(c.nextExpiryCheck)
	}
	return next
}
