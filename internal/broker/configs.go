package broker

// Configs as DescribeConfigs, CreateTopics, AlterConfigs and
// IncrementalAlterConfigs see them.
//
// A topic's configs are Kafka's topic configs (the table in internal/meta).
// Each takes, in order of precedence, the value set on the topic (source
// DYNAMIC_TOPIC_CONFIG), the node's default when the node's configuration
// changes it (STATIC_BROKER_CONFIG, under the broker-level synonym such as
// log.retention.ms), or Kafka's default (DEFAULT_CONFIG). The node's own
// configs are static: they come from the config file, flags and
// environment, are reported read-only, and cannot be altered through the
// protocol.

import (
	"maps"
	"strconv"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/meta"
	"github.com/weir-io/weir/internal/storage"
)

// configEntry is one config as it is described.
type configEntry struct {
	name     string
	value    string
	source   kmsg.ConfigSource
	typ      kmsg.ConfigType
	doc      string
	readOnly bool
	synonyms []configSynonym
}

// configSynonym is a config that supplies the value at one precedence.
type configSynonym struct {
	name   string
	value  string
	source kmsg.ConfigSource
}

// topicOverrides returns the configs set on a topic. Topics created before
// overrides were kept have none recorded: for them, the values the engine
// holds that differ from the node's defaults stand in.
func (b *Broker) topicOverrides(config storage.TopicConfig) map[string]string {
	if config.Overrides != nil {
		return config.Overrides
	}
	node := b.engine.TopicDefaults().Map()
	overrides := make(map[string]string)
	for name, value := range config.Map() {
		if node[name] != value {
			overrides[name] = value
		}
	}
	return overrides
}

// topicConfigEntries describes every topic config of a topic
// (meta.DescribeTopicConfigs resolves them).
func (b *Broker) topicConfigEntries(config storage.TopicConfig) []configEntry {
	values := meta.DescribeTopicConfigs(b.topicOverrides(config), b.engine.TopicDefaults().Map())
	entries := make([]configEntry, len(values))
	for i, v := range values {
		entries[i] = configEntry{name: v.Name, value: v.Value, source: v.Source, typ: v.Type, doc: v.Doc}
		for _, s := range v.Synonyms {
			entries[i].synonyms = append(entries[i].synonyms, configSynonym{s.Name, s.Value, s.Source})
		}
	}
	return entries
}

// nodeConfigEntries describes the node's configs that clients ask about.
// All are read-only.
func (b *Broker) nodeConfigEntries() []configEntry {
	defaults := b.engine.TopicDefaults().Map()
	entry := func(name string, typ kmsg.ConfigType, value, kafkaDefault, doc string) configEntry {
		e := configEntry{name: name, value: value, typ: typ, doc: doc, readOnly: true, source: kmsg.ConfigSourceDefaultConfig}
		if value != kafkaDefault {
			e.source = kmsg.ConfigSourceStaticBrokerConfig
			e.synonyms = append(e.synonyms, configSynonym{name, value, e.source})
		}
		e.synonyms = append(e.synonyms, configSynonym{name, kafkaDefault, kmsg.ConfigSourceDefaultConfig})
		return e
	}
	node := strconv.Itoa(int(b.cfg.NodeID))
	listener := "PLAINTEXT://" + b.ln.Addr().String()
	advertised := "PLAINTEXT://" + b.advertisedAddr()
	entries := []configEntry{
		entry("node.id", kmsg.ConfigTypeInt, node, "-1", "this node's id"),
		entry("broker.id", kmsg.ConfigTypeInt, node, "-1", "this node's id (node.id)"),
		entry("listeners", kmsg.ConfigTypeList, listener, "PLAINTEXT://:9092", "where the node listens for Kafka clients"),
		entry("advertised.listeners", kmsg.ConfigTypeList, advertised, "", "where clients are told to connect"),
		entry("log.dirs", kmsg.ConfigTypeList, b.engine.Dir(), "/tmp/kafka-logs", "the data directory"),
		entry("auto.create.topics.enable", kmsg.ConfigTypeBoolean, strconv.FormatBool(!b.cfg.DisableAutoCreate), "true", "whether producing to or asking metadata of an unknown topic creates it"),
		entry("num.partitions", kmsg.ConfigTypeInt, strconv.Itoa(int(b.cfg.DefaultPartitions)), "1", "partitions of topics created without a count"),
		entry("default.replication.factor", kmsg.ConfigTypeInt, "1", "1", "replicas of new topics: a single node holds one"),
		entry("min.insync.replicas", kmsg.ConfigTypeInt, "1", "1", "in-sync replicas an acks=all produce needs, for topics that do not set it"),
		entry("socket.request.max.bytes", kmsg.ConfigTypeInt, strconv.Itoa(int(b.cfg.MaxRequestBytes)), "104857600", "the largest request accepted"),
		entry("compression.type", kmsg.ConfigTypeString, "producer", "producer", "batches are stored as producers compressed them"),
		entry("weir.durability", kmsg.ConfigTypeString, b.engine.Durability().String(), "durable", "when the commit log is synced: durable (before acknowledging acks=all), interval:<duration> or none"),
	}
	for _, def := range meta.TopicConfigs() {
		if v, ok := defaults[def.Name]; ok && def.BrokerSynonym != "" && def.BrokerSynonym != "compression.type" && def.BrokerSynonym != "min.insync.replicas" {
			entries = append(entries, entry(def.BrokerSynonym, def.Type, v, def.Default, def.Doc))
		}
	}
	return entries
}

// advertisedAddr is the host:port Metadata gives clients.
func (b *Broker) advertisedAddr() string {
	return b.cfg.AdvertisedHost + ":" + strconv.Itoa(int(b.cfg.AdvertisedPort))
}

// setTopicOverrides validates a topic's new overrides and, unless
// validateOnly, stores them.
func (b *Broker) setTopicOverrides(topic string, overrides map[string]string, validateOnly bool) error {
	overrides, err := meta.NormalizeTopicConfigs(overrides)
	if err != nil {
		return err
	}
	config, err := b.engine.TopicDefaults().WithOverrides(overrides)
	if err != nil {
		return err
	}
	if validateOnly {
		_, err := b.engine.Topic(topic)
		return err
	}
	if err := b.engine.SetTopicConfig(topic, config); err != nil {
		return err
	}
	b.logger.Info("topic configs altered", "topic", topic, "configs", overrides)
	return nil
}

// currentOverrides returns a copy of a topic's overrides.
func (b *Broker) currentOverrides(topic string) (map[string]string, error) {
	info, err := b.engine.Topic(topic)
	if err != nil {
		return nil, err
	}
	return maps.Clone(b.topicOverrides(info.Config)), nil
}
