package broker

// Heartbeat (key 12), versions 0-4: a classic member keeps its session and
// learns of rebalances (REBALANCE_IN_PROGRESS).

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) heartbeatHandler() handler {
	return handler{key: kmsg.Heartbeat.Int16(), min: 0, max: 4, serve: b.heartbeat}
}

func (b *Broker) heartbeat(_ context.Context, r *request) (kmsg.Response, error) {
	return b.groups.Heartbeat(time.Now(), r.body.(*kmsg.HeartbeatRequest)), nil
}
