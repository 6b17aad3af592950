package broker

// ConsumerGroupHeartbeat (key 68), versions 0-1: KIP-848 membership, with
// the assignment computed on the broker (package group/consumer).

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) consumerGroupHeartbeatHandler() handler {
	return handler{key: kmsg.ConsumerGroupHeartbeat.Int16(), min: 0, max: 1, serve: b.consumerGroupHeartbeat}
}

func (b *Broker) consumerGroupHeartbeat(_ context.Context, r *request) (kmsg.Response, error) {
	return b.groups.ConsumerGroupHeartbeat(time.Now(), r.client(), r.body.(*kmsg.ConsumerGroupHeartbeatRequest)), nil
}
