package broker

// ConsumerGroupDescribe (key 69), versions 0-1: KIP-848 groups, their
// epochs, members, assignments and target assignments.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) consumerGroupDescribeHandler() handler {
	return handler{key: kmsg.ConsumerGroupDescribe.Int16(), min: 0, max: 1, serve: b.consumerGroupDescribe}
}

func (b *Broker) consumerGroupDescribe(_ context.Context, r *request) (kmsg.Response, error) {
	return b.groups.ConsumerGroupDescribe(r.body.(*kmsg.ConsumerGroupDescribeRequest)), nil
}
