package broker

// DescribeConfigs (key 32), versions 0-4.
//
// TOPIC resources list Kafka's topic configs (all of them when no names
// are given, null or empty, else those named)
// with their values and sources; BROKER resources (this node's id, or ""
// for the cluster's defaults) list the node's configs, all read-only.
// Synonyms (include_synonyms) give the values at each precedence, and
// documentation (version 3+, include_documentation) a line per config. An
// unknown topic is UNKNOWN_TOPIC_OR_PARTITION, another node's id
// INVALID_REQUEST, and other resource types (broker loggers, client
// metrics, groups) INVALID_REQUEST: Weir has none of those configs.

import (
	"context"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) describeConfigsHandler() handler {
	return handler{key: kmsg.DescribeConfigs.Int16(), min: 0, max: 4, serve: b.describeConfigs}
}

func (b *Broker) describeConfigs(_ context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		sr := kmsg.NewDescribeConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		entries, code, msg := b.configEntries(rr.ResourceType, rr.ResourceName)
		if code != 0 {
			sr.ErrorCode, sr.ErrorMessage = code, kmsg.StringPtr(msg)
			resp.Resources = append(resp.Resources, sr)
			continue
		}
		for _, e := range entries {
			if len(rr.ConfigNames) > 0 && !slices.Contains(rr.ConfigNames, e.name) {
				continue
			}
			sr.Configs = append(sr.Configs, describedConfig(e, req.IncludeSynonyms, req.IncludeDocumentation))
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return resp, nil
}

// configEntries returns a resource's configs, or an error code and
// message.
func (b *Broker) configEntries(typ kmsg.ConfigResourceType, name string) ([]configEntry, int16, string) {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		info, err := b.engine.Topic(name)
		if err != nil {
			return nil, errorCode(err), err.Error()
		}
		return b.topicConfigEntries(info.Config), 0, ""
	case kmsg.ConfigResourceTypeBroker:
		if name != "" && name != strconv.Itoa(int(b.cfg.NodeID)) {
			return nil, kerr.InvalidRequest.Code, "this node is " + strconv.Itoa(int(b.cfg.NodeID)) + ", not " + name
		}
		return b.nodeConfigEntries(), 0, ""
	}
	return nil, kerr.InvalidRequest.Code, "Weir has no configs of resource type " + typ.String()
}

func describedConfig(e configEntry, synonyms, documentation bool) kmsg.DescribeConfigsResponseResourceConfig {
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name, c.Value = e.name, kmsg.StringPtr(e.value)
	c.ReadOnly = e.readOnly
	c.Source = e.source
	c.IsDefault = e.source == kmsg.ConfigSourceDefaultConfig
	c.ConfigType = e.typ
	if documentation {
		c.Documentation = kmsg.StringPtr(e.doc)
	}
	if synonyms {
		for _, s := range e.synonyms {
			cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			cs.Name, cs.Value, cs.Source = s.name, kmsg.StringPtr(s.value), s.source
			c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
		}
	}
	return c
}
