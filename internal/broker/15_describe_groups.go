package broker

// DescribeGroups (key 15), versions 0-6: classic groups' state, protocol
// and members (with their metadata and assignments when stable). Unknown
// groups are Dead; KIP-848 groups get GROUP_ID_NOT_FOUND (see
// ConsumerGroupDescribe).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) describeGroupsHandler() handler {
	return handler{key: kmsg.DescribeGroups.Int16(), min: 0, max: 6, serve: b.describeGroups}
}

func (b *Broker) describeGroups(_ context.Context, r *request) (kmsg.Response, error) {
	return b.groups.DescribeGroups(r.body.(*kmsg.DescribeGroupsRequest)), nil
}
