package broker

// LeaveGroup (key 13), versions 0-5: one member (v0-2) or a batch by
// member id or group.instance.id (v3+) leaves a classic group, which
// rebalances.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) leaveGroupHandler() handler {
	return handler{key: kmsg.LeaveGroup.Int16(), min: 0, max: 5, serve: b.leaveGroup}
}

func (b *Broker) leaveGroup(_ context.Context, r *request) (kmsg.Response, error) {
	return b.groups.LeaveGroup(time.Now(), r.body.(*kmsg.LeaveGroupRequest)), nil
}
