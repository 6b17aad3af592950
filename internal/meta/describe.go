package meta

import "github.com/twmb/franz-go/pkg/kmsg"

// ConfigValue is a topic config as DescribeConfigs reports it.
type ConfigValue struct {
	TopicConfig
	// Value is the config's value and Source where it comes from.
	Value  string
	Source kmsg.ConfigSource
	// Synonyms are the values at each precedence, highest first (the
	// topic's own, the node's, Kafka's default), as include_synonyms
	// asks.
	Synonyms []Synonym
}

// Synonym is a config that supplies a value at one precedence.
type Synonym struct {
	Name   string
	Value  string
	Source kmsg.ConfigSource
}

// DescribeTopicConfigs resolves every topic config of a topic, given the
// configs set on it and the node's defaults (under the topic configs'
// names). A value set on the topic wins (DYNAMIC_TOPIC_CONFIG); else the
// node's default when it differs from Kafka's (STATIC_BROKER_CONFIG,
// under the broker-level synonym such as log.retention.ms); else Kafka's
// default (DEFAULT_CONFIG).
func DescribeTopicConfigs(overrides, nodeDefaults map[string]string) []ConfigValue {
	values := make([]ConfigValue, 0, len(topicConfigs))
	for _, def := range topicConfigs {
		defaultName := def.BrokerSynonym
		if defaultName == "" {
			defaultName = def.Name
		}
		nodeValue, nodeSource := def.Default, kmsg.ConfigSourceDefaultConfig
		if v, ok := nodeDefaults[def.Name]; ok && v != def.Default {
			nodeValue, nodeSource = v, kmsg.ConfigSourceStaticBrokerConfig
		}
		c := ConfigValue{TopicConfig: def, Value: nodeValue, Source: nodeSource}
		if v, ok := overrides[def.Name]; ok {
			c.Value, c.Source = v, kmsg.ConfigSourceDynamicTopicConfig
			c.Synonyms = append(c.Synonyms, Synonym{def.Name, v, kmsg.ConfigSourceDynamicTopicConfig})
		}
		if nodeSource == kmsg.ConfigSourceStaticBrokerConfig {
			c.Synonyms = append(c.Synonyms, Synonym{defaultName, nodeValue, nodeSource})
		}
		c.Synonyms = append(c.Synonyms, Synonym{defaultName, def.Default, kmsg.ConfigSourceDefaultConfig})
		values = append(values, c)
	}
	return values
}
