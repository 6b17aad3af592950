package broker

// AlterConfigs (key 33), versions 0-2.
//
// Replaces every config set on a topic with those of the request (a config
// not named returns to its default), as Kafka's non-incremental
// AlterConfigs does; validate_only checks without changing anything.
// Names and values are validated as Kafka does (INVALID_CONFIG). The
// node's configs are static, so a BROKER resource is INVALID_REQUEST, as
// are other resource types and a resource named twice.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) alterConfigsHandler() handler {
	return handler{key: kmsg.AlterConfigs.Int16(), min: 0, max: 2, serve: b.alterConfigs}
}

func (b *Broker) alterConfigs(_ context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	seen := make(map[resourceKey]int)
	for _, rr := range req.Resources {
		seen[resourceKey{rr.ResourceType, rr.ResourceName}]++
	}
	for _, rr := range req.Resources {
		sr := kmsg.NewAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		code, msg := alterableResource(rr.ResourceType, seen[resourceKey{rr.ResourceType, rr.ResourceName}])
		if code == 0 {
			overrides := make(map[string]string, len(rr.Configs))
			for _, c := range rr.Configs {
				if c.Value != nil {
					overrides[c.Name] = *c.Value
				}
			}
			b.configMu.Lock()
			err := b.setTopicOverrides(rr.ResourceName, overrides, req.ValidateOnly)
			b.configMu.Unlock()
			if err != nil {
				code, msg = errorCode(err), err.Error()
			}
		}
		if code != 0 {
			sr.ErrorCode, sr.ErrorMessage = code, kmsg.StringPtr(msg)
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return resp, nil
}

// resourceKey names a config resource.
type resourceKey struct {
	typ  kmsg.ConfigResourceType
	name string
}

// alterableResource checks that configs of the resource may be altered:
// topics only, each named once in the request.
func alterableResource(typ kmsg.ConfigResourceType, times int) (int16, string) {
	switch {
	case times > 1:
		return kerr.InvalidRequest.Code, "the resource is named more than once"
	case typ == kmsg.ConfigResourceTypeBroker:
		return kerr.InvalidRequest.Code, "Weir's node configs are static: set them in the config file, flags or environment and restart"
	case typ != kmsg.ConfigResourceTypeTopic:
		return kerr.InvalidRequest.Code, "Weir has no configs of resource type " + typ.String()
	}
	return 0, ""
}
