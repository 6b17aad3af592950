package broker

// JoinGroup (key 11), versions 0-9.
//
// Classic group membership (package group): the response waits until the
// rebalance the join starts or joins completes. If the connection closes
// first, the member stays waiting in the group until the rebalance
// timeout removes it.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) joinGroupHandler() handler {
	return handler{key: kmsg.JoinGroup.Int16(), min: 0, max: 9, serve: b.joinGroup}
}

func (b *Broker) joinGroup(ctx context.Context, r *request) (kmsg.Response, error) {
	ch := make(chan *kmsg.JoinGroupResponse, 1)
	b.groups.JoinGroup(time.Now(), r.client(), r.body.(*kmsg.JoinGroupRequest), func(resp *kmsg.JoinGroupResponse) { ch <- resp })
	resp, err := awaitReply(ctx, ch)
	if err != nil {
		return nil, err
	}
	return resp, nil
}
