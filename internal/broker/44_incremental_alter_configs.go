package broker

// IncrementalAlterConfigs (key 44), versions 0-1.
//
// Changes the named configs of a topic and leaves the others: SET gives a
// value, DELETE returns a config to its default, APPEND and SUBTRACT add
// items to or remove them from a list config (cleanup.policy, the
// throttled-replica lists), starting from its current value. A config
// named twice in a resource, a resource named twice, or an unknown
// operation is INVALID_REQUEST; an unknown config (except for DELETE,
// which has nothing to do, as on Kafka), a bad value or APPEND/SUBTRACT on
// a config that is not a list is INVALID_CONFIG. validate_only checks
// without changing anything. The node's configs are static (BROKER
// resources are INVALID_REQUEST).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/meta"
)

func (b *Broker) incrementalAlterConfigsHandler() handler {
	return handler{key: kmsg.IncrementalAlterConfigs.Int16(), min: 0, max: 1, serve: b.incrementalAlterConfigs}
}

func (b *Broker) incrementalAlterConfigs(_ context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	seen := make(map[resourceKey]int)
	for _, rr := range req.Resources {
		seen[resourceKey{rr.ResourceType, rr.ResourceName}]++
	}
	for _, rr := range req.Resources {
		sr := kmsg.NewIncrementalAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		code, msg := alterableResource(rr.ResourceType, seen[resourceKey{rr.ResourceType, rr.ResourceName}])
		if code == 0 {
			code, msg = b.alterIncrementally(rr.ResourceName, rr.Configs, req.ValidateOnly)
		}
		if code != 0 {
			sr.ErrorCode, sr.ErrorMessage = code, kmsg.StringPtr(msg)
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return resp, nil
}

// alterIncrementally applies one topic's operations (meta.ApplyIncremental
// has the rules) and stores the result.
func (b *Broker) alterIncrementally(topic string, ops []kmsg.IncrementalAlterConfigsRequestResourceConfig, validateOnly bool) (int16, string) {
	metaOps := make([]meta.ConfigOp, len(ops))
	for i, op := range ops {
		metaOps[i] = meta.ConfigOp{Name: op.Name, Op: op.Op, Value: op.Value}
	}
	b.configMu.Lock()
	defer b.configMu.Unlock()
	overrides, err := b.currentOverrides(topic)
	if err == nil {
		err = meta.ApplyIncremental(overrides, b.engine.TopicDefaults().Map(), metaOps)
	}
	if err == nil {
		err = b.setTopicOverrides(topic, overrides, validateOnly)
	}
	if err != nil {
		return errorCode(err), err.Error()
	}
	return 0, ""
}
