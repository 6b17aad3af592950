package broker

// SyncGroup (key 14), versions 0-5.
//
// A member asks for its assignment; the leader brings everybody's. The
// response waits for the leader's SyncGroup while the group completes its
// rebalance.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) syncGroupHandler() handler {
	return handler{key: kmsg.SyncGroup.Int16(), min: 0, max: 5, serve: b.syncGroup}
}

func (b *Broker) syncGroup(ctx context.Context, r *request) (kmsg.Response, error) {
	ch := make(chan *kmsg.SyncGroupResponse, 1)
	b.groups.SyncGroup(time.Now(), r.body.(*kmsg.SyncGroupRequest), func(resp *kmsg.SyncGroupResponse) { ch <- resp })
	resp, err := awaitReply(ctx, ch)
	if err != nil {
		return nil, err
	}
	return resp, nil
}
