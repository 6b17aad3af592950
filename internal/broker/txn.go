package broker

// Producer ids: the broker's side of package txn, the transaction
// coordinator. Its state is the internal topic __transaction_state; the
// broker writes what the coordinator decides there (txnLogged) before it
// answers. For now it serves idempotent producers (InitProducerId without
// a transactional id); transactions come next.

import (
	"context"
	"time"

	"github.com/weir-io/weir/internal/txn"
)

// openTxn opens __transaction_state and starts the coordinator with what
// it holds.
func (b *Broker) openTxn() error {
	log, err := openInternalLog(b.engine, txn.StateTopic)
	if err != nil {
		return err
	}
	b.txnLog = log
	b.txn = txn.New(txn.Config{PartitionExists: func(topic string, p int32) bool {
		info, err := b.engine.Topic(topic)
		return err == nil && !internalTopic(topic) && p >= 0 && p < info.Partitions
	}})
	n, err := log.replay(b.txn.Replay, b.logger.Warn)
	if err != nil {
		return err
	}
	if markers := b.txn.Recover(time.Now()); len(markers) > 0 {
		b.logger.Error("transactions left to complete, which this version cannot", "transactions", len(markers))
	}
	b.logger.Info("transaction state loaded", "records", n)
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
	if len(w.Markers) > 0 {
		b.logger.Error("transaction markers to write, which this version cannot", "transactions", len(w.Markers))
	}
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

// tickTxn runs the coordinator's timer (transactional id expiry).
func (b *Broker) tickTxn(ctx context.Context) {
	b.txnLogged(ctx, func() *txn.Write { return b.txn.Tick(time.Now()) })
}
