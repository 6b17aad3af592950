package nexmark

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	model "github.com/weir-io/weir/flow/nexmark"
)

// WriteEvents writes the events of g to topic, the n-th it writes to
// partition n mod partitions (so each partition's events are in the
// generator's order, and the partitions' event times advance together),
// each record's
// timestamp its event time, its key null, its value the event in
// flow/nexmark's encoding. rate paces the writes in events a second of
// wall-clock time (0: as fast as the broker takes them). The client must
// partition by the records' Partition field (kgo.ManualPartitioner). It
// returns how many events it wrote, once every one is acknowledged, or
// the first error; it stops early, with ctx's error, when ctx ends.
func WriteEvents(ctx context.Context, client *kgo.Client, topic string, g *model.Generator, partitions int32, rate float64) (int64, error) {
	if partitions < 1 {
		return 0, fmt.Errorf("nexmark: write events to %d partitions", partitions)
	}
	var (
		written int64
		failed  = make(chan error, 1)
		start   = time.Now()
	)
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			select {
			case failed <- err:
			default:
			}
		}
	}
	for e, ok := g.Next(); ok; e, ok = g.Next() {
		select {
		case err := <-failed:
			return written, fmt.Errorf("nexmark: produce to %s: %w", topic, err)
		default:
		}
		if rate > 0 && written%1000 == 0 {
			due := start.Add(time.Duration(float64(written) / rate * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return written, ctx.Err()
				}
			}
		}
		r := &kgo.Record{Topic: topic, Partition: int32(written % int64(partitions)),
			Timestamp: time.UnixMilli(e.Time()), Value: encodeEvent(e)}
		client.Produce(ctx, r, promise)
		written++
	}
	if err := client.Flush(ctx); err != nil {
		return written, err
	}
	select {
	case err := <-failed:
		return written, fmt.Errorf("nexmark: produce to %s: %w", topic, err)
	default:
	}
	return written, nil
}
