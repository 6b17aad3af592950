package kafkabench

import (
	"context"
	"time"
)

// RunConsume runs the consume workload: Config.Consumers consumers read
// Config.Topic, which must exist, from its start (Config.From earliest) or
// its end (latest), until Config.Records records or Config.Bytes bytes
// were read, Config.Duration has passed, or, from earliest without
// Config.Follow, every partition was read up to the end offset it had when
// the run began. Cancelling ctx stops it early (Result.Interrupted).
func RunConsume(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validateConsume(); err != nil {
		return nil, err
	}
	s, err := openSession(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	defer s.close()
	from, err := s.offsets(ctx, cfg.From == FromLatest)
	if err != nil {
		return nil, err
	}
	var end map[int32]int64
	if cfg.From == FromEarliest && !cfg.Follow {
		if end, err = s.offsets(ctx, true); err != nil {
			return nil, err
		}
	}
	stop, release := stopAfter(ctx, cfg.Duration)
	defer release()
	consumers, err := newConsumerSet(stop, cfg, s.partitions, from, time.Now(), false)
	if err != nil {
		return nil, err
	}
	defer consumers.close()
	consumers.limitRecords, consumers.limitBytes = cfg.Records, cfg.Bytes
	if end != nil {
		consumers.setEnd(end)
	}
	start := time.Now()
	stopProgress := startProgress(cfg.Progress, cfg.ProgressInterval, WorkloadConsume, start, consumeProgress(consumers, false))
	consumers.run()()
	stopProgress()
	res := s.result(ctx, WorkloadConsume)
	res.Consume = consumers.result(start, from, end)
	return res, nil
}
