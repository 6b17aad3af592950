package broker

// DeleteGroups (key 42), versions 0-3: groups without members are deleted
// with their committed offsets (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP
// otherwise). The response waits for the tombstones to be durable.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) deleteGroupsHandler() handler {
	return handler{key: kmsg.DeleteGroups.Int16(), min: 0, max: 3, serve: b.deleteGroups}
}

func (b *Broker) deleteGroups(ctx context.Context, r *request) (kmsg.Response, error) {
	resp, records := b.groups.DeleteGroups(r.body.(*kmsg.DeleteGroupsRequest))
	if code := b.persist(context.WithoutCancel(ctx), records); code != 0 {
		for i := range resp.Groups {
			if resp.Groups[i].ErrorCode == 0 {
				resp.Groups[i].ErrorCode = code
			}
		}
	}
	return resp, nil
}
