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
// the coordinator, following the Writes the reports return.
func (b *Broker) writeMarkers(ctx context.Context, markers []txn.Markers) {
	for len(markers) > 0 {
		m := markers[0]
		markers = markers[1:]
		written := m
		written.Partitions = nil
		for _, tp := range m.Partitions {
			if err := b.writeMarker(ctx, m, tp); err != nil {
				b.logger.Error("writing a transaction marker failed; retrying later", "transactional_id", m.TransactionalID,
					"topic", tp.Topic, "partition", tp.Partition, "err", err)
				continue
			}
			written.Partitions = append(written.Partitions, tp)
		}
		if len(written.Partitions) == 0 && len(m.Partitions) > 0 {
			continue
		}
		w := b.txnLogged(ctx, func() *txn.Write { return b.txn.MarkersWritten(time.Now(), written) })
		markers = append(markers, w.Markers...)
	}
}

// writeMarker writes one marker and waits until it is durable. A
// partition that no longer exists counts as written, as Kafka drops it.
func (b *Broker) writeMarker(ctx context.Context, m txn.Markers, tp txn.TopicPartition) error {
	batch, err := storage.NewMarkerBatch(m.ProducerID, m.ProducerEpoch, m.Commit, m.CoordinatorEpoch, time.Now().UnixMilli())
	if err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	if tp.Topic == group.OffsetsTopic {
		// The marker and its effect on the staged offsets, in log order.
		b.offsetsMu.Lock()
		res, err := b.offsets.partition.Append(batch)
		if err == nil {
			b.groups.CompleteTxn(m.ProducerID, m.Commit)
		}
		b.offsetsMu.Unlock()
		if err != nil {
			return err
		}
		return b.engine.WaitDurable(ctx, res)
	}
	p, err := b.engine.Partition(tp.Topic, tp.Partition)
	if errors.Is(err, storage.ErrUnknownTopicOrPartition) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := p.AppendDurable(ctx, batch); err != nil {
		return err
	}
	if !b.wakesOnSync() {
		b.dataArrived()
	}
	return nil
}
