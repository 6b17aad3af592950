package broker

// Producer ids and transactions: the broker's side of package txn, the
// transaction coordinator. Its state is the internal topic
// __transaction_state; the broker writes what the coordinator decides
// there (txnLogged) before it answers, and writes the transaction markers
// it asks for into the data partitions and __consumer_offsets
// (txn_markers.go).

import (
	"context"
	"time"

	"github.com/weir-io/weir/internal/txn"
)

// Txn returns the transaction coordinator (for metrics).
func (b *Broker) Txn() *txn.Coordinator { return b.txn }

// openTxn opens __transaction_state and starts the coordinator with what
// it holds.
func (b *Broker) openTxn() error {
	log, err := openInternalLog(b.engine, txn.StateTopic)
	if err != nil {
		return err
	}
	b.txnLog = log
	cfg := b.cfg.Transactions
	cfg.OffsetsPartition = nil // partition 0 of __consumer_offsets, the only one
	cfg.PartitionExists = func(topic string, p int32) bool {
		// __consumer_offsets is in transactions that commit offsets
		// (AddOffsetsToTxn); clients still cannot produce to it.
		info, err := b.engine.Topic(topic)
		return err == nil && topic != txn.StateTopic && p >= 0 && p < info.Partitions
	}
	b.txn = txn.New(cfg)
	n, err := log.replay(plainRecords(b.txn.Replay), b.logger.Warn)
	if err != nil {
		return err
	}
	markers := b.txn.Recover(time.Now())
	b.logger.Info("transaction state loaded", "records", n, "transactions_to_complete", len(markers))
	b.writeMarkers(context.Background(), markers)
	return nil
}

// txnLogged runs a coordinator call and makes its Write durable, as the
// package documents: the records are appended under txnMu, in the order
// the coordinator decided them, Finish is told how the append went, and
// the records are waited for. The Write's response is then the answer.
func (b *Broker) txnLogged(ctx context.Context, call func() *txn.Write) *txn.Write {
	b.txnMu.Lock()
	w := call()
	var res storageResult
	var err error
	if len(w.Records) > 0 {
		res, err = b.txnLog.append(time.Now(), txnRecords(w.Records))
	}
	b.txn.Finish(w, groupStorageError(err))
	b.txnMu.Unlock()
	if err == nil && len(w.Records) > 0 {
		err = b.engine.WaitDurable(context.WithoutCancel(ctx), res)
	}
	if err != nil {
		b.logger.Error("writing to the transaction state topic failed", "records", len(w.Records), "err", err)
	}
	return w
}

// txnDo is txnLogged, then the markers of the transactions the call
// completes are written (txn_markers.go) before it returns.
func (b *Broker) txnDo(ctx context.Context, call func() *txn.Write) *txn.Write {
	w := b.txnLogged(ctx, call)
	b.writeMarkers(ctx, w.Markers)
	return w
}

// txnRecords converts the coordinator's records.
func txnRecords(records []txn.Record) []internalRecord {
	out := make([]internalRecord, len(records))
	for i, r := range records {
		out[i] = internalRecord{Key: r.Key, Value: r.Value}
	}
	return out
}

// tickTxn runs the coordinator's timer: transactions past their timeout
// are aborted (their markers written), ids unused too long expire, and
// markers a failed write left owed are written again.
func (b *Broker) tickTxn(ctx context.Context, retry bool) {
	b.txnDo(ctx, func() *txn.Write { return b.txn.Tick(time.Now()) })
	// Owed markers: the coordinator hands out none that a writer holds.
	if retry {
		b.writeMarkers(ctx, b.txn.PendingMarkers())
	}
}
