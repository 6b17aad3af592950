package broker

// ListGroups (key 16), versions 0-5: every group, filtered by state (v4+)
// and type, classic or consumer (v5+).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) listGroupsHandler() handler {
	return handler{key: kmsg.ListGroups.Int16(), min: 0, max: 5, serve: b.listGroups}
}

func (b *Broker) listGroups(_ context.Context, r *request) (kmsg.Response, error) {
	return b.groups.ListGroups(r.body.(*kmsg.ListGroupsRequest)), nil
}
