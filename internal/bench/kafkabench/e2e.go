package kafkabench

import (
	"context"
	"fmt"
	"time"
)

// RunE2E runs the end-to-end workload: consumers start at the end offsets
// of Config.Topic (created if missing), then producers send as in
// RunProduce. Once every record sent has its outcome, the end offsets are
// listed again and the consumers read up to them, for at most
// Config.DrainTimeout. Cancelling ctx stops it early (Result.Interrupted).
func RunE2E(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validateE2E(); err != nil {
		return nil, err
	}
	s, err := openSession(ctx, cfg, true)
	if err != nil {
		return nil, err
	}
	defer s.close()
	// Exact offsets, not "the end" resolved later by the consumer: a
	// record produced before the consumer looked would be skipped.
	from, err := s.offsets(ctx, true)
	if err != nil {
		return nil, err
	}
	epoch := time.Now()
	consumers, err := newConsumerSet(ctx, cfg, s.partitions, from, epoch, true)
	if err != nil {
		return nil, err
	}
	defer consumers.close()
	producers, err := newProducerSet(cfg, epoch)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	waitConsumers := consumers.run()
	stop, release := stopAfter(ctx, cfg.Duration)
	defer release()
	stopProgress := startProgress(cfg.Progress, cfg.ProgressInterval, WorkloadE2E, start, e2eProgress(producers, consumers))
	end := producers.run(start, stop.Done())
	producers.close()

	acked, _, _ := producers.totals()
	endOffsets, listErr := s.awaitEnd(ctx, from, acked, cfg.DrainTimeout)
	if listErr != nil {
		consumers.stopCancel(fmt.Errorf("list end offsets after producing: %w", listErr))
	} else {
		consumers.setEnd(endOffsets)
		drain := time.AfterFunc(cfg.DrainTimeout, func() { consumers.stopCancel(errDrainTimeout) })
		defer drain.Stop()
	}
	waitConsumers()
	stopProgress()

	res := s.result(ctx, WorkloadE2E)
	res.Produce = producers.result(start, end)
	res.Consume = consumers.result(start, from, endOffsets)
	e2e := summarize(merged(consumers.recorders()))
	res.EndToEnd = &e2e
	if listErr != nil && ctx.Err() == nil {
		return res, listErr
	}
	return res, nil
}

// e2eProgress is the progress line of e2e: the producers' and the
// consumers' lines side by side.
func e2eProgress(p *producerSet, c *consumerSet) func(float64) string {
	produced, consumed := produceProgress(p), consumeProgress(c, true)
	return func(secs float64) string {
		return "produced " + produced(secs) + " | consumed " + consumed(secs)
	}
}

// awaitEnd lists the end offsets until they cover the acknowledged
// records (at least acked past from), or until timeout. A broker's end
// offset is its high watermark, which may trail an acks=1 or acks=0
// acknowledgement for a moment: until followers have the record on
// Kafka, until the log has synced it on Weir's durable policy.
func (s *session) awaitEnd(ctx context.Context, from map[int32]int64, acked int64, timeout time.Duration) (map[int32]int64, error) {
	deadline := time.Now().Add(timeout)
	for {
		end, err := s.offsets(ctx, true)
		if err != nil {
			return nil, err
		}
		var listed int64
		for p, e := range end {
			listed += e - from[p]
		}
		if listed >= acked || time.Now().After(deadline) || ctx.Err() != nil {
			return end, nil
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}
