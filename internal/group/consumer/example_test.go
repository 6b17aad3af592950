package consumer_test

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/group/consumer"
)

// topics is a fixed Topics view: one topic of four partitions.
type topics struct{}

var orders = consumer.Topic{ID: [16]byte{15: 1}, Name: "orders", Partitions: 4}

func (topics) ByName(name string) (consumer.Topic, bool) { return orders, name == orders.Name }
func (topics) ByID(id [16]byte) (consumer.Topic, bool)   { return orders, id == orders.ID }
func (topics) All() []consumer.Topic                     { return []consumer.Topic{orders} }

// join returns a version 1 join of memberID subscribing to orders.
func join(memberID string) *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group = "billing"
	req.MemberID = memberID
	req.RebalanceTimeoutMillis = 30_000
	req.SubscribedTopicNames = []string{"orders"}
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	return req
}

// owning returns a heartbeat of memberID at epoch reporting the partitions
// of orders it owns.
func owning(memberID string, epoch int32, partitions ...int32) *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group = "billing"
	req.MemberID = memberID
	req.MemberEpoch = epoch
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{{TopicID: orders.ID, Partitions: partitions}}
	return req
}

func show(who string, resp *kmsg.ConsumerGroupHeartbeatResponse) {
	fmt.Printf("%s: epoch %d", who, resp.MemberEpoch)
	if resp.Assignment != nil {
		partitions := []int32{}
		for _, t := range resp.Assignment.Topics {
			partitions = append(partitions, t.Partitions...)
		}
		fmt.Printf(", assigned %v", partitions)
	}
	fmt.Println()
}

// A second member joins a group of one: the first gives up half of the
// partitions before the second receives them.
func Example() {
	g := consumer.New("billing", consumer.Config{})
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	client := consumer.Client{ID: "billing-app", Host: "/10.0.0.7"}

	show("a joins", g.Heartbeat(now, client, join("a"), topics{}))
	show("b joins", g.Heartbeat(now, client, join("b"), topics{}))
	show("a, owning 0-3", g.Heartbeat(now, client, owning("a", 1, 0, 1, 2, 3), topics{}))
	fmt.Println("group:", g.State())
	show("a, owning 0-1", g.Heartbeat(now, client, owning("a", 1, 0, 1), topics{}))
	show("b", g.Heartbeat(now, client, owning("b", 2), topics{}))
	fmt.Println("group:", g.State(), "at epoch", g.Epoch())
	// Output:
	// a joins: epoch 1, assigned [0 1 2 3]
	// b joins: epoch 2, assigned []
	// a, owning 0-3: epoch 1, assigned [0 1]
	// group: Reconciling
	// a, owning 0-1: epoch 2
	// b: epoch 2, assigned [2 3]
	// group: Stable at epoch 2
}
