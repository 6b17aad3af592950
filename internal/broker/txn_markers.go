package broker

// Transaction markers: when the transaction coordinator completes a
// transaction, a control batch (commit or abort) goes into every partition
// the transaction wrote, and into the __consumer_offsets partition of the
// groups whose offsets it committed (which applies or drops them). The
// coordinator is told which partitions have theirs once they are durable;
// what could not be written is written again by the timer.

import (
	"context"
	"errors"
	"time"

	"github.com/weir-io/weir/internal/group"
	"github.com/weir-io/weir/internal/storage"
	"github.com/weir-io/weir/internal/txn"
)

// writeMarkers writes the markers of each transaction and reports them to
// the coordinator, following the Writes the reports return. A
// transaction's markers are appended one after the other and waited for
// together: one fsync covers them all. Every hand-out is reported, with
// the partitions written (none when the writes failed), for the
// coordinator hands out again only markers no writer holds.
func (b *Broker) writeMarkers(ctx context.Context, markers []txn.Markers) {
	ctx = context.WithoutCancel(ctx)
	for len(markers) > 0 {
		m := markers[0]
		markers = markers[1:]
		written := m
		written.Partitions = nil
		var last storage.AppendResult
		for _, tp := range m.Partitions {
			res, err := b.appendMarker(m, tp)
			if err != nil {
				b.logger.Error("writing a transaction marker failed; retrying later", "transactional_id", m.TransactionalID,
					"topic", tp.Topic, "partition", tp.Partition, "err", err)
				continue
			}
			if res.After(last) {
				last = res
			}
			written.Partitions = append(written.Partitions, tp)
		}
		if err := b.engine.WaitDurable(ctx, last); err != nil {
			b.logger.Error("transaction markers not durable; retrying later", "transactional_id", m.TransactionalID, "err", err)
			written.Partitions = nil
		} else if !b.wakesOnSync() {
			b.dataArrived()
		}
		w := b.txnLogged(ctx, func() *txn.Write { return b.txn.MarkersWritten(time.Now(), written) })
		markers = append(markers, w.Markers...)
	}
}

// appendMarker appends one marker, not waiting for it to be durable. A
// partition that no longer exists counts as written (a zero result), as
// Kafka drops it. The marker of __consumer_offsets is appended under
// offsetsMu, which TxnOffsetCommit verifies and stages under; the others
// under txnAppendMu, which transactional produces verify and append
// under.
func (b *Broker) appendMarker(m txn.Markers, tp txn.TopicPartition) (storage.AppendResult, error) {
	batch, err := storage.NewMarkerBatch(m.ProducerID, m.ProducerEpoch, m.Commit, m.CoordinatorEpoch, time.Now().UnixMilli())
	if err != nil {
		return storage.AppendResult{}, err
	}
	if tp.Topic == group.OffsetsTopic {
		// The marker and its effect on the staged offsets, in log order.
		b.offsetsMu.Lock()
		defer b.offsetsMu.Unlock()
		res, err := b.offsets.partition.Append(batch)
		if err == nil {
			b.groups.CompleteTxn(m.ProducerID, m.Commit)
		}
		return res, err
	}
	p, err := b.engine.Partition(tp.Topic, tp.Partition)
	if errors.Is(err, storage.ErrUnknownTopicOrPartition) {
		return storage.AppendResult{}, nil
	}
	if err != nil {
		return storage.AppendResult{}, err
	}
	// After every produce verified while the transaction was ongoing
	// (txn_version.go).
	b.txnAppendMu.Lock()
	defer b.txnAppendMu.Unlock()
	return p.Append(batch)
}
