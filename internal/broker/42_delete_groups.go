package broker

// DeleteGroups (key 42), versions 0-3: groups without members are deleted
// with their committed offsets (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP
// otherwise). The response waits for the tombstones to be durable.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/group"
)

func (b *Broker) deleteGroupsHandler() handler {
	return handler{key: kmsg.DeleteGroups.Int16(), min: 0, max: 3, serve: b.deleteGroups}
}

func (b *Broker) deleteGroups(ctx context.Context, r *request) (kmsg.Response, error) {
	var resp *kmsg.DeleteGroupsResponse
	deleteGroups := func() (records []group.Record) {
		resp, records = b.groups.DeleteGroups(r.body.(*kmsg.DeleteGroupsRequest))
		return records
	}
	if code := b.logged(ctx, deleteGroups, nil); code != 0 {
		for i := range resp.Groups {
			if resp.Groups[i].ErrorCode == 0 {
				resp.Groups[i].ErrorCode = code
			}
		}
	}
	return resp, nil
}
