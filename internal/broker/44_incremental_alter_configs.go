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
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
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

// alterIncrementally applies one topic's operations.
func (b *Broker) alterIncrementally(topic string, ops []kmsg.IncrementalAlterConfigsRequestResourceConfig, validateOnly bool) (int16, string) {
	names := make(map[string]bool)
	for _, op := range ops {
		if names[op.Name] {
			return kerr.InvalidRequest.Code, fmt.Sprintf("config %s is named more than once", op.Name)
		}
		names[op.Name] = true
	}
	b.configMu.Lock()
	defer b.configMu.Unlock()
	overrides, err := b.currentOverrides(topic)
	if err != nil {
		return errorCode(err), err.Error()
	}
	for _, op := range ops {
		if err := b.applyConfigOp(topic, overrides, op); err != nil {
			return errorCode(err), err.Error()
		}
	}
	if err := b.setTopicOverrides(topic, overrides, validateOnly); err != nil {
		return errorCode(err), err.Error()
	}
	return 0, ""
}

// applyConfigOp applies one operation to a topic's overrides.
func (b *Broker) applyConfigOp(topic string, overrides map[string]string, op kmsg.IncrementalAlterConfigsRequestResourceConfig) error {
	def, ok := meta.LookupTopicConfig(op.Name)
	switch {
	case op.Op > kmsg.IncrementalAlterConfigOpSubtract || op.Op < 0:
		return fmt.Errorf("%w: unknown operation %d on %s", errInvalidRequest, op.Op, op.Name)
	case !ok && op.Op == kmsg.IncrementalAlterConfigOpDelete:
		return nil // nothing to delete, as on Kafka
	case !ok:
		return fmt.Errorf("%w: %q is not a topic config", meta.ErrInvalidConfig, op.Name)
	}
	value := ""
	if op.Value != nil {
		value = *op.Value
	}
	switch op.Op {
	case kmsg.IncrementalAlterConfigOpSet:
		if op.Value == nil {
			return fmt.Errorf("%w: SET %s without a value", meta.ErrInvalidConfig, op.Name)
		}
		overrides[op.Name] = value
	case kmsg.IncrementalAlterConfigOpDelete:
		delete(overrides, op.Name)
	case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
		if def.Type != kmsg.ConfigTypeList {
			return fmt.Errorf("%w: %s is not a list, so %s does not apply", meta.ErrInvalidConfig, op.Name, op.Op)
		}
		current := b.currentListValue(topic, def, overrides)
		for item := range strings.SplitSeq(value, ",") {
			item = strings.TrimSpace(item)
			switch {
			case item == "":
			case op.Op == kmsg.IncrementalAlterConfigOpAppend && !slices.Contains(current, item):
				current = append(current, item)
			case op.Op == kmsg.IncrementalAlterConfigOpSubtract:
				current = slices.DeleteFunc(current, func(s string) bool { return s == item })
			}
		}
		overrides[op.Name] = strings.Join(current, ",")
	}
	return nil
}

// currentListValue returns the items of a list config as the topic has it
// now: its override, else its effective default.
func (b *Broker) currentListValue(topic string, def meta.TopicConfig, overrides map[string]string) []string {
	value, ok := overrides[def.Name]
	if !ok {
		value = def.Default
		if info, err := b.engine.Topic(topic); err == nil {
			if v, ok := info.Config.Map()[def.Name]; ok {
				value = v
			}
		}
	}
	var items []string
	for item := range strings.SplitSeq(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}
