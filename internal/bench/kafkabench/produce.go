package kafkabench

import (
	"context"
	"time"
)

// RunProduce runs the produce workload: Config.Producers producers send to
// Config.Topic (created if missing) until Config.Duration has passed or
// Config.Records were sent. Cancelling ctx stops sending early; the result
// then covers what was done (Result.Interrupted).
func RunProduce(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validateProduce(); err != nil {
		return nil, err
	}
	s, err := openSession(ctx, cfg, true)
	if err != nil {
		return nil, err
	}
	defer s.close()
	producers, err := newProducerSet(cfg, time.Now())
	if err != nil {
		return nil, err
	}
	start := time.Now()
	stop, release := stopAfter(ctx, cfg.Duration)
	defer release()
	stopProgress := startProgress(cfg.Progress, cfg.ProgressInterval, WorkloadProduce, start, produceProgress(producers))
	end := producers.run(start, stop.Done())
	stopProgress()
	producers.close()
	res := s.result(ctx, WorkloadProduce)
	res.Produce = producers.result(start, end)
	return res, nil
}
