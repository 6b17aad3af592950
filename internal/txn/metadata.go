package txn

import (
	"cmp"
	"math"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (a TopicPartition) compare(b TopicPartition) int {
	if c := cmp.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}

// State is the state of a transactional id, with Kafka's numbers (they are
// written in the state topic) and names (DescribeTransactions and
// ListTransactions report them).
type State = kmsg.TransactionState

// The states. PrepareEpochFence is Kafka's name for an ongoing transaction
// being aborted to fence its producer; Kafka never writes it and neither
// does this package, which goes from Ongoing to PrepareAbort directly.
const (
	StateEmpty             = kmsg.TransactionStateEmpty
	StateOngoing           = kmsg.TransactionStateOngoing
	StatePrepareCommit     = kmsg.TransactionStatePrepareCommit
	StatePrepareAbort      = kmsg.TransactionStatePrepareAbort
	StateCompleteCommit    = kmsg.TransactionStateCompleteCommit
	StateCompleteAbort     = kmsg.TransactionStateCompleteAbort
	StateDead              = kmsg.TransactionStateDead
	StatePrepareEpochFence = kmsg.TransactionStatePrepareEpochFence
)

// Producer ids and epochs.
const (
	noProducerID  int64 = -1
	noEpoch       int16 = -1
	maxEpoch      int16 = math.MaxInt16
	maxProducerID int64 = math.MaxInt64
	// transactionVersion2 is KIP-890's transactions version 2: the epoch is
	// bumped by every EndTxn (version 5+), and partitions are added by the
	// partition leaders rather than by the client.
	transactionVersion2 int16 = 2
)

// epochExhausted reports whether an epoch may not be bumped for a
// client: Kafka keeps the last epoch, math.MaxInt16, for fencing.
func epochExhausted(epoch int16) bool { return epoch >= maxEpoch-1 }

// metadata is what the state topic holds of one transactional id: the
// value of its record. A change builds a new metadata; the entry takes it
// once the record is written (Coordinator.Finish).
type metadata struct {
	producerID int64
	// prevProducerID is the producer id before the change that made this
	// metadata (equal to producerID unless the id was rotated).
	prevProducerID int64
	// nextProducerID is set in PrepareCommit and PrepareAbort of a
	// version 2 transaction whose epoch is exhausted: its completion moves
	// the transactional id to that producer id, at epoch 0.
	nextProducerID int64
	epoch          int16
	timeoutMs      int32
	state          State
	// partitions are the partitions of the transaction (Ongoing,
	// PrepareCommit, PrepareAbort), sorted.
	// Invariant: empty in the other states.
	partitions []TopicPartition
	// startMs is when the transaction started (its first partition, or
	// its EndTxn for a version 2 abort without partitions); -1 in Empty.
	startMs  int64
	updateMs int64
	// version is the client's transaction version: 2 when it speaks
	// KIP-890's version 2, else 0.
	version int16
}

// preparing reports whether the transaction waits for its markers.
func (m metadata) preparing() bool {
	return m.state == StatePrepareCommit || m.state == StatePrepareAbort
}

// expirable reports whether the transactional id may expire: no
// transaction is open or completing.
func (m metadata) expirable() bool {
	return m.state == StateEmpty || m.state == StateCompleteCommit || m.state == StateCompleteAbort
}

// next returns m as the base of a change: the producer id before the
// change is remembered and the update time set.
func (m metadata) next(nowMs int64) metadata {
	n := m
	n.prevProducerID = m.producerID
	n.updateMs = nowMs
	return n
}

// entry is one transactional id.
type entry struct {
	id   string
	meta metadata
	// lastEpoch is the epoch the producer held before the last bump it
	// asked for (InitProducerId with its epoch, or a version 2 EndTxn), so
	// that a retry of that request gets the same answer; noEpoch after a
	// bump that fenced it. Not durable (as in Kafka).
	lastEpoch int16
	// pending is the change whose record is being written; while it is,
	// every other request for the id is answered CONCURRENT_TRANSACTIONS.
	pending *change
	// unmarked are the partitions whose markers are not yet written, in
	// PrepareCommit and PrepareAbort.
	// Invariant: nil unless meta.preparing(); a subset of meta.partitions.
	unmarked map[TopicPartition]struct{}
	// completion numbers the completion in progress (PrepareCommit or
	// PrepareAbort), unique in the coordinator's run; its Markers carry
	// it.
	completion uint64
	// writing is set while the markers of the completion are handed out
	// to a writer that has not reported them (MarkersWritten):
	// PendingMarkers does not hand them out a second time, for a second
	// marker written late could end the producer's next transaction.
	writing bool
}

// busy reports whether the id must answer CONCURRENT_TRANSACTIONS: a
// record of it is being written, or its transaction waits for markers.
func (e *entry) busy() bool { return e.pending != nil || e.meta.preparing() }

// contains reports whether tp is in the transaction.
func (m metadata) contains(tp TopicPartition) bool {
	_, found := slices.BinarySearchFunc(m.partitions, tp, TopicPartition.compare)
	return found
}

// containsAll reports whether every partition of tps is in the
// transaction.
func (m metadata) containsAll(tps []TopicPartition) bool {
	for _, tp := range tps {
		if !m.contains(tp) {
			return false
		}
	}
	return true
}

// partitionSet returns tps as a set.
func partitionSet(tps []TopicPartition) map[TopicPartition]struct{} {
	set := make(map[TopicPartition]struct{}, len(tps))
	for _, tp := range tps {
		set[tp] = struct{}{}
	}
	return set
}

// union returns the sorted union of two sorted partition lists, as a new
// slice.
func union(a, b []TopicPartition) []TopicPartition {
	out := make([]TopicPartition, 0, len(a)+len(b))
	out = append(append(out, a...), b...)
	return normalize(out)
}
