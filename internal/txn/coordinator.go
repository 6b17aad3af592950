package txn

import (
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// maxIDBytes is the longest transactional id: what the key of its record
// can hold (an int16-prefixed string).
const maxIDBytes = 32767

// Coordinator is the transaction coordinator of one node. It is safe for
// concurrent use; it does no I/O and reads no clock.
type Coordinator struct {
	cfg Config

	mu sync.Mutex
	// txns holds every transactional id, including those whose first
	// record is being written.
	txns map[string]*entry
	// active holds the ids with a transaction open or completing: the
	// ones Tick looks at for timeouts and unfinished completions.
	// Invariant: active[id] == txns[id] exactly when its state is
	// Ongoing, PrepareCommit or PrepareAbort.
	active map[string]*entry
	ids    producerIDs
	// nextExpiryCheck is when Tick next looks for ids to expire.
	nextExpiryCheck time.Time
	// completions numbers the completions (entry.completion).
	completions uint64
	stats       stats
}

// stats are the coordinator's counters since it started.
type stats struct {
	commits, aborts, timedOut, fenced, expired uint64
}

// New returns a coordinator without transactional ids; Replay loads those
// of a previous run.
func New(cfg Config) *Coordinator {
	cfg = cfg.withDefaults()
	return &Coordinator{
		cfg:    cfg,
		txns:   make(map[string]*entry),
		active: make(map[string]*entry),
		ids:    producerIDs{size: cfg.ProducerIDBlockSize},
	}
}

// OffsetsPartition returns the partition of __consumer_offsets holding
// the offsets of group: the partition AddOffsetsToTxn adds to a
// transaction, and the one a TxnOffsetCommit must be verified against.
func (c *Coordinator) OffsetsPartition(group string) TopicPartition {
	return c.cfg.OffsetsPartition(group)
}

// prepared sets up the completion of e's transaction, which just became
// PrepareCommit or PrepareAbort: every partition waits for its marker.
// REQUIRES: c.mu is held; e.meta.preparing().
func (c *Coordinator) prepared(e *entry) {
	c.completions++
	e.completion = c.completions
	e.unmarked = partitionSet(e.meta.partitions)
}

// track records whether e has a transaction open or completing.
// REQUIRES: c.mu is held.
func (c *Coordinator) track(e *entry) {
	switch e.meta.state {
	case StateOngoing, StatePrepareCommit, StatePrepareAbort:
		c.active[e.id] = e
	default:
		delete(c.active, e.id)
	}
}

// forget deletes a transactional id.
// REQUIRES: c.mu is held.
func (c *Coordinator) forget(id string) {
	delete(c.txns, id)
	delete(c.active, id)
}

// validID returns the error of a transactional id no request may name.
func validID(id string) error {
	if id == "" || len(id) > maxIDBytes {
		return kerr.InvalidRequest
	}
	return nil
}

// fencedError counts a request refused because its producer was fenced,
// and returns PRODUCER_FENCED.
// REQUIRES: c.mu is held.
func (c *Coordinator) fencedError() error {
	c.stats.fenced++
	return kerr.ProducerFenced
}

// code returns the Kafka error code of err (0 for nil).
func code(err error) int16 {
	if err == nil {
		return 0
	}
	if ke, ok := err.(*kerr.Error); ok {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

// fencedCode maps PRODUCER_FENCED to INVALID_PRODUCER_EPOCH for request
// versions that predate it (KIP-588), as Kafka's handlers do.
func fencedCode(c int16, understood bool) int16 {
	if c == kerr.ProducerFenced.Code && !understood {
		return kerr.InvalidProducerEpoch.Code
	}
	return c
}

// millis returns t in milliseconds since the epoch.
func millis(t time.Time) int64 { return t.UnixMilli() }
