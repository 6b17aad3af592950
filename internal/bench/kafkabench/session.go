package kafkabench

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// session is what every workload sets up first: an admin client and the
// topic's partitions.
type session struct {
	cfg        Config
	admin      *kgo.Client
	adm        *kadm.Client
	topic      TopicInfo
	partitions []int32
	started    time.Time
	cpu        time.Duration
}

// openSession connects and finds the topic, creating it when create is set
// and it does not exist.
func openSession(ctx context.Context, cfg Config, create bool) (*session, error) {
	s := &session{cfg: cfg, started: time.Now(), cpu: cpuTime()}
	var err error
	if s.admin, err = kgo.NewClient(cfg.adminOptions()...); err != nil {
		return nil, fmt.Errorf("admin client: %w", err)
	}
	s.adm = kadm.NewClient(s.admin)
	if s.topic, s.partitions, err = prepareTopic(ctx, s.admin, cfg.Topic, cfg.Partitions, cfg.ReplicationFactor, create); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// offsets lists the start (end false) or end offsets of the topic.
func (s *session) offsets(ctx context.Context, end bool) (map[int32]int64, error) {
	return listOffsets(ctx, s.adm, s.cfg.Topic, s.partitions, end)
}

func (s *session) close() { s.admin.Close() }

// result returns a Result with the fields every workload fills.
func (s *session) result(ctx context.Context, workload string) *Result {
	elapsed := time.Since(s.started)
	return &Result{
		Workload:    workload,
		Config:      s.cfg,
		Topic:       s.topic,
		Generator:   newGenerator(cpuTime()-s.cpu, elapsed),
		Started:     s.started,
		Elapsed:     elapsed,
		Interrupted: ctx.Err() != nil,
	}
}

// stopAfter returns a context that ends when parent does or, when d is
// positive, d after now (with errDurationEnded as its cause), and the
// function that releases it.
func stopAfter(parent context.Context, d time.Duration) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	if d <= 0 {
		return ctx, func() { cancel(context.Canceled) }
	}
	t := time.AfterFunc(d, func() { cancel(errDurationEnded) })
	return ctx, func() { t.Stop(); cancel(context.Canceled) }
}
