package compat

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/IBM/sarama"
)

// sarama's transactions: a SyncProducer with Producer.Transaction.ID
// (which needs what the idempotent producer needs) initialises when it is
// made; BeginTxn, CommitTxn and AbortTxn frame the messages sent, and
// AddOffsetsToTxnWithGroupMetadata adds a consumer group session's
// offsets, with its member id and generation (KIP-447).

// transactionalConfig is the configuration of a transactional
// SyncProducer.
func (d *saramaDriver) transactionalConfig(id string) *sarama.Config {
	cfg := d.producerConfig("none")
	cfg.Producer.Idempotent = true
	cfg.Producer.Transaction.ID = id
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Retry.Max = 3
	return cfg
}

func (d *saramaDriver) produceTransactions(_ context.Context, topic, id string, txns []transaction) error {
	producer, err := sarama.NewSyncProducer(d.addrs, d.transactionalConfig(id))
	if err != nil {
		return err
	}
	defer producer.Close()
	for i, t := range txns {
		if err := saramaTransaction(producer, topic, t.Records, t.Commit); err != nil {
			return fmt.Errorf("transaction %d: %w", i+1, err)
		}
	}
	return nil
}

// saramaTransaction sends records in a transaction, then commits or
// aborts it.
func saramaTransaction(producer sarama.SyncProducer, topic string, records []record, commit bool) error {
	if err := producer.BeginTxn(); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := saramaSend(producer, topic, records); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return saramaEnd(producer, commit)
}

// saramaEnd commits or aborts a producer's transaction.
func saramaEnd(producer sarama.SyncProducer, commit bool) error {
	end := producer.AbortTxn
	if commit {
		end = producer.CommitTxn
	}
	if err := end(); err != nil {
		return fmt.Errorf("%s: %w", commitOrAbort(commit), err)
	}
	return nil
}

// saramaSend sends records with a SyncProducer, each to the partition it
// names.
func saramaSend(producer sarama.SyncProducer, topic string, records []record) error {
	msgs := make([]*sarama.ProducerMessage, len(records))
	for i, r := range records {
		msgs[i] = saramaMessage(topic, r)
	}
	if err := producer.SendMessages(msgs); err != nil {
		var perrs sarama.ProducerErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			return perrs[0].Err
		}
		return err
	}
	return nil
}

func (d *saramaDriver) consumeCommitted(ctx context.Context, topic string, partitions int32, want []record) ([]record, error) {
	cfg := d.config()
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	return d.consumeWith(ctx, cfg, topic, partitions, want)
}

// transact runs a round in a ConsumerGroup session: the claims read from
// the group's committed offsets (autocommit off, nothing marked) to the
// ends, then the transaction is made while the session lasts, so that
// its member id and generation go with the offsets.
func (d *saramaDriver) transact(ctx context.Context, r txnRound) ([]record, error) {
	cfg := d.config()
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Return.Errors = true
	group, err := sarama.NewConsumerGroup(d.addrs, r.Group, cfg)
	if err != nil {
		return nil, err
	}
	defer group.Close()
	h := &saramaRound{ends: r.Ends, reached: make(chan struct{}), sessions: make(chan sarama.ConsumerGroupSession, 1)}
	consumeCtx, stop := context.WithCancel(ctx)
	consumed := make(chan error, 1)
	go func() { consumed <- group.Consume(consumeCtx, []string{r.Input}, h) }()
	defer func() {
		stop()
		<-consumed
	}()
	var session sarama.ConsumerGroupSession
	select {
	case <-h.reached:
		session = <-h.sessions
	case err := <-group.Errors():
		return nil, fmt.Errorf("consume: %w", err)
	case err := <-consumed:
		return nil, fmt.Errorf("consume ended before reaching the ends: %v", err)
	case <-ctx.Done():
		return h.records(), fmt.Errorf("consume: %w", ctx.Err())
	}
	records := h.records()
	producer, err := sarama.NewSyncProducer(d.addrs, d.transactionalConfig(r.ID))
	if err != nil {
		return records, err
	}
	defer producer.Close()
	if err := producer.BeginTxn(); err != nil {
		return records, fmt.Errorf("begin: %w", err)
	}
	if err := saramaSend(producer, r.Output, records); err != nil {
		return records, fmt.Errorf("send: %w", err)
	}
	offsets := make([]*sarama.PartitionOffsetMetadata, len(r.Ends))
	for p, end := range r.Ends {
		offsets[p] = &sarama.PartitionOffsetMetadata{Partition: int32(p), Offset: end, LeaderEpoch: -1}
	}
	metadata := sarama.NewConsumerGroupMetadataFromSession(session, r.Group, nil)
	if err := producer.AddOffsetsToTxnWithGroupMetadata(map[string][]*sarama.PartitionOffsetMetadata{r.Input: offsets}, metadata); err != nil {
		return records, fmt.Errorf("add offsets: %w", err)
	}
	return records, saramaEnd(producer, r.Commit)
}

// saramaRound is the ConsumerGroupHandler of a round: each claim reads
// its partition up to its end, then waits for the session to end.
type saramaRound struct {
	ends     []int64
	reached  chan struct{} // closed once every partition is read to its end
	sessions chan sarama.ConsumerGroupSession

	mu      sync.Mutex
	read    []record
	done    int // partitions read to their ends
	closed  bool
	claimed bool
}

func (h *saramaRound) Setup(s sarama.ConsumerGroupSession) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.claimed {
		return errors.New("a second session: the group rebalanced")
	}
	h.claimed = true
	h.sessions <- s
	return nil
}

func (h *saramaRound) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *saramaRound) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	end := h.ends[claim.Partition()]
	next := claim.InitialOffset()
	if next < 0 {
		next = 0
	}
	for next < end {
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			h.add(saramaRecord(m))
			next = m.Offset + 1
		case <-s.Context().Done():
			return nil
		}
	}
	h.mu.Lock()
	h.done++
	if h.done == len(h.ends) && !h.closed {
		h.closed = true
		close(h.reached)
	}
	h.mu.Unlock()
	<-s.Context().Done()
	return nil
}

func (h *saramaRound) add(r record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.read = append(h.read, r)
}

func (h *saramaRound) records() []record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]record(nil), h.read...)
}

// fence: a SyncProducer initialises when it is made.
func (d *saramaDriver) fence(_ context.Context, topic, id string, f fencing) (fenced, err error) {
	first, err := sarama.NewSyncProducer(d.addrs, d.transactionalConfig(id))
	if err != nil {
		return nil, err
	}
	defer first.Close()
	if err := first.BeginTxn(); err != nil {
		return nil, fmt.Errorf("first producer: begin: %w", err)
	}
	if err := saramaSend(first, topic, []record{f.First}); err != nil {
		return nil, fmt.Errorf("first producer: send: %w", err)
	}
	second, err := sarama.NewSyncProducer(d.addrs, d.transactionalConfig(id))
	if err != nil {
		return nil, fmt.Errorf("second producer: %w", err)
	}
	defer second.Close()
	if err := saramaSend(first, topic, []record{f.Late}); err != nil {
		fenced = err
	} else if err := first.CommitTxn(); err != nil {
		fenced = err
	}
	if err := saramaTransaction(second, topic, []record{f.Second}, true); err != nil {
		return fenced, fmt.Errorf("second producer: %w", err)
	}
	return fenced, nil
}
