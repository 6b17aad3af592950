package compat

import (
	"context"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"
)

// idempotentCodecs are the codecs of the idempotent/<codec> rows: none,
// and gzip, which every client has. The producer id and sequence number
// are in a batch's header, outside what the codec compresses, so one codec
// stands for the others (produce/<codec> checks them all).
var idempotentCodecs = []string{"none", "gzip"}

// idempotentRetryUntested is why idempotent/retry runs with franz-go only.
const idempotentRetryUntested = "The suite loses a produce response through a Go dialer of its own (response_loss_test.go), with franz-go only: the other clients' retries are not provoked."

// idempotentFeature has the client's idempotent producer produce a data
// set under codec into a topic of two partitions, checks it with franz-go
// as produce/<codec> does (every byte; offsets dense, so that each record
// is stored exactly once), and checks, from what the broker stored, that
// the client produced with a producer id.
func idempotentFeature(codec string) func(context.Context, *env, *client, driver, string) error {
	return func(ctx context.Context, e *env, c *client, d driver, topic string) error {
		if err := e.createTopic(ctx, topic, 2, nil); err != nil {
			return err
		}
		batches, err := produceAndCheckWith(ctx, e, c, d.produceIdempotent, topic, codec, dataSet("idempotent-"+codec, 2, base()))
		if err != nil {
			return err
		}
		return checkProducers(batches, c.producerPerRecord)
	}
}

// idempotentRetryFeature has franz-go's idempotent producer produce a data
// set in two rounds, each a produce request with a batch per partition,
// and lose the response to the second (responseLoss): the broker has
// stored those batches, kgo sends them again on a new connection with the
// same producer id, epoch and sequence numbers, and the broker must answer
// with the offsets they got the first time and store nothing twice.
func idempotentRetryFeature(ctx context.Context, e *env, c *client, d driver, topic string) error {
	if err := e.createTopic(ctx, topic, 2, nil); err != nil {
		return err
	}
	loss := &responseLoss{lose: 2}
	produce := func(ctx context.Context, topic, codec string, records []record) ([]position, error) {
		cl, err := franzProducer(e.addr, topic, codec, kgo.Dialer(loss.dial))
		if err != nil {
			return nil, err
		}
		defer cl.Close()
		half := len(records) / 2
		first, err := produceSync(ctx, cl, records[:half])
		if err != nil {
			return nil, fmt.Errorf("first round: %w", err)
		}
		second, err := produceSync(ctx, cl, records[half:])
		if err != nil {
			return nil, fmt.Errorf("second round, whose response is lost: %w", err)
		}
		return append(first, second...), nil
	}
	batches, err := produceAndCheckWith(ctx, e, c, produce, topic, "none", dataSet("retry", 2, base()))
	if err != nil {
		return err
	}
	if err := checkProducers(batches, false); err != nil {
		return err
	}
	return loss.check()
}

// checkProducers checks that every record was stored in a batch of an
// idempotent producer: with a producer id and an epoch, the same producer
// for every record (a producer per record, if the client runs one per
// record).
func checkProducers(batches []stored, perRecord bool) error {
	var ids []int64
	for i, b := range batches {
		if b.producerID < 0 || b.producerEpoch < 0 {
			return fmt.Errorf("record %d is stored in a batch with producer id %d and epoch %d: not produced idempotently", i, b.producerID, b.producerEpoch)
		}
		if !slices.Contains(ids, b.producerID) {
			ids = append(ids, b.producerID)
		}
	}
	want := 1
	if perRecord {
		want = len(batches)
	}
	if len(ids) != want {
		return fmt.Errorf("the %d records carry %d producer ids %v, want %d", len(batches), len(ids), ids, want)
	}
	return nil
}
