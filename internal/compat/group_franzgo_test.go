package compat

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// franzGroup runs members of a group with franz-go's kgo, in the test
// process: range (eager), cooperative-sticky, or KIP-848 with
// ServerSideBalancer (the broker's uniform assignor). A member processes
// each poll before the next (BlockRebalanceOnPoll), autocommits, and
// commits what it polled when partitions are revoked, leaving included.
type franzGroup struct{ protocol string }

// franzGroups are franz-go's group clients by protocol.
var franzGroups = map[string]groupClient{
	"eager":       franzGroup{"eager"},
	"cooperative": franzGroup{"cooperative"},
	"kip848":      franzGroup{"kip848"},
}

func (g franzGroup) start(_ context.Context, spec memberSpec) (groupMember, error) {
	m := &franzMember{spec: spec, done: make(chan struct{})}
	opts := []kgo.Opt{
		kgo.SeedBrokers(spec.addr),
		kgo.Dialer(m.killSwitch.dial),
		kgo.ClientID(spec.name),
		kgo.ConsumerGroup(spec.group),
		kgo.ConsumeTopics(spec.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(groupSessionTimeout),
		kgo.HeartbeatInterval(groupHeartbeatInterval),
		kgo.RebalanceTimeout(groupRebalanceTimeout),
		kgo.AutoCommitInterval(time.Second),
		kgo.FetchMaxWait(250 * time.Millisecond),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
			spec.log.add(spec.name, memberEvent{Event: "assigned", Partitions: assigned[spec.topic]})
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
			if err := cl.CommitUncommittedOffsets(ctx); err != nil {
				spec.log.add(spec.name, memberEvent{Event: "error", Message: "commit on revoke: " + err.Error()})
			}
			spec.log.add(spec.name, memberEvent{Event: "revoked", Partitions: revoked[spec.topic]})
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
			spec.log.add(spec.name, memberEvent{Event: "lost", Partitions: lost[spec.topic]})
		}),
	}
	switch g.protocol {
	case "eager":
		opts = append(opts, kgo.Balancers(kgo.RangeBalancer()))
	case "cooperative":
		opts = append(opts, kgo.Balancers(kgo.CooperativeStickyBalancer()))
	case "kip848":
		opts = append(opts, kgo.ServerSideBalancer())
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	m.client = cl
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go m.poll(ctx)
	return m, nil
}

// franzMember is a running franz-go member.
type franzMember struct {
	spec       memberSpec
	client     *kgo.Client
	killSwitch killSwitch
	// cancel ends the poll loop, which closes done.
	cancel context.CancelFunc
	done   chan struct{}
}

// poll consumes until ctx is done, reporting every record.
func (m *franzMember) poll(ctx context.Context) {
	defer close(m.done)
	for {
		fetches := m.client.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			m.spec.log.add(m.spec.name, memberEvent{Event: "error", Message: err.Error()})
		})
		fetches.EachRecord(func(r *kgo.Record) {
			m.spec.log.add(m.spec.name, memberEvent{Event: "record", Partition: r.Partition, Offset: r.Offset, Value: string(r.Value)})
		})
		m.client.AllowRebalance()
	}
}

func (m *franzMember) stop(ctx context.Context) error {
	m.cancel()
	<-m.done
	m.client.AllowRebalance()
	// Leaving revokes everything: OnPartitionsRevoked commits.
	err := m.client.LeaveGroupContext(ctx)
	m.client.Close()
	return err
}

func (m *franzMember) kill() {
	m.killSwitch.pull()
	m.cancel()
	<-m.done
	// Abandoned: it can reach nobody; Close ends its goroutines once it
	// gives up trying.
	go m.client.CloseAllowingRebalance()
}
