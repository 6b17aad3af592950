package txn

// Summary is what the coordinator tells of itself at one moment, for
// metrics: gauges of its transactional ids and counters since it started.
type Summary struct {
	// TransactionalIDs is the number of transactional ids known.
	TransactionalIDs int
	// Open is the number of transactions open (Ongoing) and Completing
	// the number waiting for their markers (PrepareCommit, PrepareAbort).
	Open, Completing int
	// Commits and Aborts count the transactions completed (markers
	// written) with each outcome, aborts by the coordinator included.
	Commits, Aborts uint64
	// TimedOut counts the transactions the coordinator aborted because
	// they outlived their timeout.
	TimedOut uint64
	// Fenced counts the requests refused because their producer was
	// fenced: an epoch older than the transactional id's
	// (PRODUCER_FENCED, or INVALID_PRODUCER_EPOCH for old clients).
	Fenced uint64
	// Expired counts the transactional ids deleted for being unused.
	Expired uint64
	// NextProducerID is the next producer id the coordinator hands out.
	NextProducerID int64
}

// Summary returns the coordinator's summary.
func (c *Coordinator) Summary() Summary {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Summary{
		Commits: c.stats.commits, Aborts: c.stats.aborts, TimedOut: c.stats.timedOut,
		Fenced: c.stats.fenced, Expired: c.stats.expired, NextProducerID: c.ids.next,
	}
	for _, e := range c.txns {
		if e.unborn() {
			continue
		}
		s.TransactionalIDs++
		switch {
		case e.meta.state == StateOngoing:
			s.Open++
		case e.meta.preparing():
			s.Completing++
		}
	}
	return s
}
