package broker

// OffsetDelete (key 47), version 0: deletes a group's committed offsets of
// some partitions, unless the group consumes the topic
// (GROUP_SUBSCRIBED_TO_TOPIC). The response waits for the tombstones to
// be durable.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/group"
)

func (b *Broker) offsetDeleteHandler() handler {
	return handler{key: kmsg.OffsetDelete.Int16(), min: 0, max: 0, serve: b.offsetDelete}
}

func (b *Broker) offsetDelete(ctx context.Context, r *request) (kmsg.Response, error) {
	var resp *kmsg.OffsetDeleteResponse
	deleteOffsets := func() (records []group.Record) {
		resp, records = b.groups.DeleteOffsets(r.body.(*kmsg.OffsetDeleteRequest))
		return records
	}
	if code := b.logged(ctx, deleteOffsets, nil); code != 0 {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				if p := &resp.Topics[i].Partitions[j]; p.ErrorCode == 0 {
					p.ErrorCode = code
				}
			}
		}
	}
	return resp, nil
}
