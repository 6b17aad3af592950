package compat

import (
	"context"
	"errors"
	"time"

	"github.com/IBM/sarama"
)

// saramaGroup runs members of a group with sarama's ConsumerGroup, in the
// test process, with the range (eager) or cooperative-sticky strategy. A
// member marks every message it handles; sarama autocommits the marks and
// commits them when a session ends and when the member closes.
type saramaGroup struct{ protocol string }

// saramaGroups are sarama's group clients by protocol.
var saramaGroups = map[string]groupClient{
	"eager":       saramaGroup{"eager"},
	"cooperative": saramaGroup{"cooperative"},
}

func (g saramaGroup) start(_ context.Context, spec memberSpec) (groupMember, error) {
	m := &saramaMember{spec: spec, done: make(chan struct{})}
	cfg := sarama.NewConfig()
	cfg.Version = saramaVersion
	cfg.ClientID = spec.name
	cfg.Net.Proxy.Enable = true
	cfg.Net.Proxy.Dialer = &m.killSwitch
	cfg.Metadata.Retry.Backoff = 50 * time.Millisecond
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.MaxWaitTime = 250 * time.Millisecond
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = time.Second
	cfg.Consumer.Group.Session.Timeout = groupSessionTimeout
	cfg.Consumer.Group.Heartbeat.Interval = groupHeartbeatInterval
	cfg.Consumer.Group.Rebalance.Timeout = groupRebalanceTimeout
	cfg.Consumer.Group.Rebalance.Retry.Backoff = 100 * time.Millisecond
	switch g.protocol {
	case "eager":
		cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	case "cooperative":
		cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyCooperativeSticky()}
	}
	group, err := sarama.NewConsumerGroup([]string{spec.addr}, spec.group, cfg)
	if err != nil {
		return nil, err
	}
	m.group = group
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		for err := range group.Errors() {
			spec.log.add(spec.name, memberEvent{Event: "error", Message: err.Error()})
		}
	}()
	go m.consume(ctx)
	return m, nil
}

// saramaMember is a running sarama member.
type saramaMember struct {
	spec       memberSpec
	group      sarama.ConsumerGroup
	killSwitch killSwitch
	// cancel ends the consume loop, which closes done.
	cancel context.CancelFunc
	done   chan struct{}
}

// consume runs sessions until ctx is done (with the eager strategy, each
// rebalance ends one).
func (m *saramaMember) consume(ctx context.Context) {
	defer close(m.done)
	for ctx.Err() == nil {
		err := m.group.Consume(ctx, []string{m.spec.topic}, saramaHandler{m.spec})
		if errors.Is(err, sarama.ErrClosedConsumerGroup) {
			return
		}
		if err != nil {
			m.spec.log.add(m.spec.name, memberEvent{Event: "error", Message: err.Error()})
		}
	}
}

// saramaHandler reports a partition as assigned while its claim is
// consumed, and every message, which it marks for commit.
type saramaHandler struct{ spec memberSpec }

func (h saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h saramaHandler) ConsumeClaim(session sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	partitions := []int32{claim.Partition()}
	h.spec.log.add(h.spec.name, memberEvent{Event: "assigned", Partitions: partitions})
	defer h.spec.log.add(h.spec.name, memberEvent{Event: "revoked", Partitions: partitions})
	for msg := range claim.Messages() {
		h.spec.log.add(h.spec.name, memberEvent{Event: "record", Partition: msg.Partition, Offset: msg.Offset, Value: string(msg.Value)})
		session.MarkMessage(msg, "")
	}
	return nil
}

func (m *saramaMember) stop(ctx context.Context) error {
	// Ending the session commits the marks; Close leaves the group.
	m.cancel()
	select {
	case <-m.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return m.group.Close()
}

func (m *saramaMember) kill() {
	m.killSwitch.pull()
	// Abandoned: it can reach nobody; closing ends its goroutines once it
	// gives up trying.
	m.cancel()
	go m.group.Close()
}
