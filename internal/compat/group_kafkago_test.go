package compat

import (
	"context"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"
)

// kafkaGoGroup runs members of a group with kafka-go's ConsumerGroup (what
// its Reader uses when given a GroupID), in the test process, with the
// range balancer (eager): each generation's partitions are read by a
// partition Reader each, from the offset the generation gives, and every
// message is committed as it is handled (Generation.CommitOffsets).
type kafkaGoGroup struct{}

func (kafkaGoGroup) start(_ context.Context, spec memberSpec) (groupMember, error) {
	m := &kafkaGoMember{spec: spec, done: make(chan struct{})}
	m.dialer = &kafka.Dialer{ClientID: spec.name, Timeout: 10 * time.Second, DialFunc: m.killSwitch.dial}
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                spec.group,
		Brokers:           []string{spec.addr},
		Dialer:            m.dialer,
		Topics:            []string{spec.topic},
		GroupBalancers:    []kafka.GroupBalancer{kafka.RangeGroupBalancer{}},
		HeartbeatInterval: groupHeartbeatInterval,
		SessionTimeout:    groupSessionTimeout,
		RebalanceTimeout:  groupRebalanceTimeout,
		JoinGroupBackoff:  100 * time.Millisecond,
		StartOffset:       kafka.FirstOffset,
	})
	if err != nil {
		return nil, err
	}
	m.group = group
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go m.run(ctx)
	return m, nil
}

// kafkaGoMember is a running kafka-go member.
type kafkaGoMember struct {
	spec       memberSpec
	group      *kafka.ConsumerGroup
	dialer     *kafka.Dialer
	killSwitch killSwitch
	// cancel ends the generation loop, which closes done.
	cancel context.CancelFunc
	done   chan struct{}
}

// run consumes each generation's partitions until the group closes.
func (m *kafkaGoMember) run(ctx context.Context) {
	defer close(m.done)
	for {
		gen, err := m.group.Next(ctx)
		if errors.Is(err, kafka.ErrGroupClosed) || ctx.Err() != nil {
			return
		}
		if err != nil {
			m.spec.log.add(m.spec.name, memberEvent{Event: "error", Message: err.Error()})
			continue
		}
		assignments := gen.Assignments[m.spec.topic]
		var partitions []int32
		for _, a := range assignments {
			partitions = append(partitions, int32(a.ID))
		}
		m.spec.log.add(m.spec.name, memberEvent{Event: "assigned", Partitions: partitions})
		for _, a := range assignments {
			gen.Start(func(ctx context.Context) { m.consume(ctx, gen, a) })
		}
	}
}

// consume reads one partition of a generation until the generation ends,
// which revokes it.
func (m *kafkaGoMember) consume(ctx context.Context, gen *kafka.Generation, a kafka.PartitionAssignment) {
	defer m.spec.log.add(m.spec.name, memberEvent{Event: "revoked", Partitions: []int32{int32(a.ID)}})
	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   []string{m.spec.addr},
		Topic:     m.spec.topic,
		Partition: a.ID,
		Dialer:    m.dialer,
		MaxWait:   250 * time.Millisecond,
	})
	defer reader.Close()
	if err := reader.SetOffset(a.Offset); err != nil {
		m.spec.log.add(m.spec.name, memberEvent{Event: "error", Message: err.Error()})
		return
	}
	for {
		msg, err := reader.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() == nil {
				m.spec.log.add(m.spec.name, memberEvent{Event: "error", Message: err.Error()})
			}
			return
		}
		m.spec.log.add(m.spec.name, memberEvent{Event: "record", Partition: int32(msg.Partition), Offset: msg.Offset, Value: string(msg.Value)})
		if err := gen.CommitOffsets(map[string]map[int]int64{m.spec.topic: {a.ID: msg.Offset + 1}}); err != nil {
			m.spec.log.add(m.spec.name, memberEvent{Event: "error", Message: "commit: " + err.Error()})
		}
	}
}

func (m *kafkaGoMember) stop(ctx context.Context) error {
	// Closing ends the generation (its partitions are revoked, their
	// offsets committed already) and leaves the group.
	closed := make(chan error, 1)
	go func() { closed <- m.group.Close() }()
	select {
	case err := <-closed:
		m.cancel()
		<-m.done
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *kafkaGoMember) kill() {
	m.killSwitch.pull()
	// Abandoned: it can reach nobody; closing ends its goroutines once it
	// gives up trying.
	m.cancel()
	go m.group.Close()
}
