package compat

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// franz-go's transactions: a client with TransactionalID, whose
// BeginTransaction and EndTransaction frame the records produced, and a
// GroupTransactSession for consume-transform-produce.

// transactionalProducer returns a franzProducer with a transactional id.
func (d *franzDriver) transactionalProducer(topic, id string) (*kgo.Client, error) {
	return franzProducer(d.addr, topic, "none", kgo.TransactionalID(id))
}

func (d *franzDriver) produceTransactions(ctx context.Context, topic, id string, txns []transaction) error {
	cl, err := d.transactionalProducer(topic, id)
	if err != nil {
		return err
	}
	defer cl.Close()
	for i, t := range txns {
		if err := franzTransaction(ctx, cl, t.Records, t.Commit); err != nil {
			return fmt.Errorf("transaction %d: %w", i+1, err)
		}
	}
	return nil
}

// franzTransaction produces records in a transaction, waiting for each to
// be stored, then commits or aborts it.
func franzTransaction(ctx context.Context, cl *kgo.Client, records []record, commit bool) error {
	if err := cl.BeginTransaction(); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if _, err := produceSync(ctx, cl, records); err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		return fmt.Errorf("%s: %w", commitOrAbort(commit), err)
	}
	return nil
}

func (d *franzDriver) consumeCommitted(ctx context.Context, topic string, partitions int32, want []record) ([]record, error) {
	offsets := make(map[int32]kgo.Offset)
	for p := range partitions {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	cl, err := d.consumer(topic, offsets, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return d.poll(ctx, cl, len(want))
}

// transact runs a round in a GroupTransactSession: a group member that
// reads committed records from the group's committed offsets (stable
// ones: RequireStableFetchOffsets), whose End adds the offsets polled to
// the transaction (AddOffsetsToTxn, TxnOffsetCommit with the member's
// generation) before ending it.
func (d *franzDriver) transact(ctx context.Context, r txnRound) ([]record, error) {
	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(d.addr),
		kgo.TransactionalID(r.ID),
		kgo.DefaultProduceTopic(r.Output),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ConsumerGroup(r.Group),
		kgo.ConsumeTopics(r.Input),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
	)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	next := make([]int64, len(r.Ends)) // where each partition is read up to
	reached := func() bool {
		for p, end := range r.Ends {
			if next[p] < end {
				return false
			}
		}
		return true
	}
	var consumed []record
	for !reached() {
		fetches := sess.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			return consumed, fmt.Errorf("consume: %w", err)
		}
		fetches.EachRecord(func(rec *kgo.Record) {
			consumed = append(consumed, fromKgo(rec))
			next[rec.Partition] = rec.Offset + 1
		})
	}
	if err := sess.Begin(); err != nil {
		return consumed, fmt.Errorf("begin: %w", err)
	}
	if _, err := produceSync(ctx, sess.Client(), consumed); err != nil {
		return consumed, fmt.Errorf("produce: %w", err)
	}
	committed, err := sess.End(ctx, kgo.TransactionEndTry(r.Commit))
	if err != nil {
		return consumed, fmt.Errorf("%s: %w", commitOrAbort(r.Commit), err)
	}
	if committed != r.Commit {
		return consumed, fmt.Errorf("asked to %s, the session's End says committed=%v", commitOrAbort(r.Commit), committed)
	}
	return consumed, nil
}

// fence: kgo initialises a producer lazily; ProducerID has the second one
// initialise without producing.
func (d *franzDriver) fence(ctx context.Context, topic, id string, f fencing) (fenced, err error) {
	first, err := d.transactionalProducer(topic, id)
	if err != nil {
		return nil, err
	}
	defer first.Close()
	if err := first.BeginTransaction(); err != nil {
		return nil, fmt.Errorf("first producer: begin: %w", err)
	}
	if _, err := produceSync(ctx, first, []record{f.First}); err != nil {
		return nil, fmt.Errorf("first producer: produce: %w", err)
	}
	second, err := d.transactionalProducer(topic, id)
	if err != nil {
		return nil, err
	}
	defer second.Close()
	if _, _, err := second.ProducerID(ctx); err != nil {
		return nil, fmt.Errorf("second producer: initialise: %w", err)
	}
	if _, err := produceSync(ctx, first, []record{f.Late}); err != nil {
		fenced = err
	} else if err := first.EndTransaction(ctx, kgo.TryCommit); err != nil {
		fenced = err
	}
	if err := franzTransaction(ctx, second, []record{f.Second}, true); err != nil {
		return fenced, fmt.Errorf("second producer: %w", err)
	}
	return fenced, nil
}
