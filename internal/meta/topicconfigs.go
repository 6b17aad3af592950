package meta

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrInvalidConfig is returned for an unknown config name or a value a
// config does not accept (Kafka's INVALID_CONFIG).
var ErrInvalidConfig = errors.New("meta: invalid config")

// Effect says what a topic config does on Weir.
type Effect int8

const (
	// Applied configs do on Weir what they do on Kafka.
	Applied Effect = iota
	// Kept configs are accepted, validated, stored and reported, and have
	// no effect: they tune mechanisms Weir does not have (per-partition
	// segment files, replication throttles, leader election).
	Kept
)

// TopicConfig describes one of Kafka's topic configs.
type TopicConfig struct {
	// Name is the config's name (retention.ms).
	Name string
	// Type is its Kafka type, as DescribeConfigs reports it.
	Type kmsg.ConfigType
	// Default is Kafka's default value.
	Default string
	// BrokerSynonym is the node-level config that supplies the default
	// (log.retention.ms), "" when there is none.
	BrokerSynonym string
	// Effect says whether Weir acts on it.
	Effect Effect
	// Doc is a one-line description, as DescribeConfigs v3+ returns it.
	Doc string

	// check validates a value; nil accepts any.
	check func(string) error
}

// Validate checks a value for the config, as Kafka does.
func (c TopicConfig) Validate(value string) error {
	if c.check == nil {
		return nil
	}
	if err := c.check(value); err != nil {
		return fmt.Errorf("%w: %s=%q: %v", ErrInvalidConfig, c.Name, value, err)
	}
	return nil
}

const maxLong = "9223372036854775807"

// topicConfigs is Kafka's topic configs (those of Kafka 3.x that 4.0 kept),
// sorted by name.
var topicConfigs = []TopicConfig{
	{Name: "cleanup.policy", Type: kmsg.ConfigTypeList, Default: "delete", BrokerSynonym: "log.cleanup.policy",
		Doc: "delete: old batches are removed by retention; compact: only the latest record per key is kept; both together are allowed", check: listOf("delete", "compact")},
	{Name: "compression.type", Type: kmsg.ConfigTypeString, Default: "producer", BrokerSynonym: "compression.type",
		Doc: "producer: batches are stored compressed as the producer sent them (Weir never recompresses, so it accepts no other value)", check: oneOf("producer")},
	{Name: "delete.retention.ms", Type: kmsg.ConfigTypeLong, Default: "86400000", BrokerSynonym: "log.cleaner.delete.retention.ms",
		Doc: "how long a tombstone stays in a compacted topic after it was written", check: long(0)},
	{Name: "file.delete.delay.ms", Type: kmsg.ConfigTypeLong, Default: "60000", BrokerSynonym: "log.segment.delete.delay.ms", Effect: Kept,
		Doc: "kept for compatibility: Weir has no per-partition files", check: long(0)},
	{Name: "flush.messages", Type: kmsg.ConfigTypeLong, Default: maxLong, BrokerSynonym: "log.flush.interval.messages", Effect: Kept,
		Doc: "kept for compatibility: the node's durability policy decides when data is synced", check: long(1)},
	{Name: "flush.ms", Type: kmsg.ConfigTypeLong, Default: maxLong, BrokerSynonym: "log.flush.interval.ms", Effect: Kept,
		Doc: "kept for compatibility: the node's durability policy decides when data is synced", check: long(0)},
	{Name: "follower.replication.throttled.replicas", Type: kmsg.ConfigTypeList, Default: "", Effect: Kept,
		Doc: "kept for compatibility: a single node has no followers", check: throttledReplicas},
	{Name: "index.interval.bytes", Type: kmsg.ConfigTypeInt, Default: "4096", BrokerSynonym: "log.index.interval.bytes", Effect: Kept,
		Doc: "kept for compatibility: Weir indexes every batch", check: integer(0, math.MaxInt32)},
	{Name: "leader.replication.throttled.replicas", Type: kmsg.ConfigTypeList, Default: "", Effect: Kept,
		Doc: "kept for compatibility: a single node has no followers", check: throttledReplicas},
	{Name: "local.retention.bytes", Type: kmsg.ConfigTypeLong, Default: "-2", BrokerSynonym: "log.local.retention.bytes", Effect: Kept,
		Doc: "kept for compatibility: Weir has no tiered storage", check: long(-2)},
	{Name: "local.retention.ms", Type: kmsg.ConfigTypeLong, Default: "-2", BrokerSynonym: "log.local.retention.ms", Effect: Kept,
		Doc: "kept for compatibility: Weir has no tiered storage", check: long(-2)},
	{Name: "max.compaction.lag.ms", Type: kmsg.ConfigTypeLong, Default: maxLong, BrokerSynonym: "log.cleaner.max.compaction.lag.ms", Effect: Kept,
		Doc: "kept for compatibility: compaction runs when min.cleanable.dirty.ratio is reached", check: long(1)},
	{Name: "max.message.bytes", Type: kmsg.ConfigTypeInt, Default: "1048588", BrokerSynonym: "message.max.bytes",
		Doc: "the largest record batch the topic accepts", check: integer(0, 1<<30)},
	{Name: "message.timestamp.after.max.ms", Type: kmsg.ConfigTypeLong, Default: maxLong, BrokerSynonym: "log.message.timestamp.after.max.ms",
		Doc: "with CreateTime, a batch holding a timestamp further than this in the future is refused (INVALID_TIMESTAMP)", check: long(0)},
	{Name: "message.timestamp.before.max.ms", Type: kmsg.ConfigTypeLong, Default: maxLong, BrokerSynonym: "log.message.timestamp.before.max.ms",
		Doc: "with CreateTime, a batch holding a timestamp further than this in the past is refused (INVALID_TIMESTAMP)", check: long(0)},
	{Name: "message.timestamp.type", Type: kmsg.ConfigTypeString, Default: "CreateTime", BrokerSynonym: "log.message.timestamp.type",
		Doc: "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches with the broker's clock", check: oneOf("CreateTime", "LogAppendTime")},
	{Name: "min.cleanable.dirty.ratio", Type: kmsg.ConfigTypeDouble, Default: "0.5", BrokerSynonym: "log.cleaner.min.cleanable.ratio",
		Doc: "compaction runs when this share of a partition has not been compacted yet", check: double(0, 1)},
	{Name: "min.compaction.lag.ms", Type: kmsg.ConfigTypeLong, Default: "0", BrokerSynonym: "log.cleaner.min.compaction.lag.ms", Effect: Kept,
		Doc: "kept for compatibility: Weir compacts everything but the last batch", check: long(0)},
	{Name: "min.insync.replicas", Type: kmsg.ConfigTypeInt, Default: "1", BrokerSynonym: "min.insync.replicas",
		Doc: "an acks=all produce needs this many in-sync replicas; a single node has one, so above 1 such produces fail with NOT_ENOUGH_REPLICAS", check: integer(1, math.MaxInt32)},
	{Name: "preallocate", Type: kmsg.ConfigTypeBoolean, Default: "false", BrokerSynonym: "log.preallocate", Effect: Kept,
		Doc: "kept for compatibility: Weir has no per-partition files", check: boolean},
	{Name: "remote.storage.enable", Type: kmsg.ConfigTypeBoolean, Default: "false", Effect: Kept,
		Doc: "tiered storage; Weir has none, so only false is accepted", check: oneOf("false")},
	{Name: "retention.bytes", Type: kmsg.ConfigTypeLong, Default: "-1", BrokerSynonym: "log.retention.bytes",
		Doc: "the oldest batches of a partition are removed while it is larger than this; -1: no limit", check: long(-1)},
	{Name: "retention.ms", Type: kmsg.ConfigTypeLong, Default: "604800000", BrokerSynonym: "log.retention.ms",
		Doc: "batches whose newest timestamp is older than this are removed; -1: kept forever", check: long(-1)},
	{Name: "segment.bytes", Type: kmsg.ConfigTypeInt, Default: "1073741824", BrokerSynonym: "log.segment.bytes", Effect: Kept,
		Doc: "kept for compatibility: Weir's commit log is one per node, with node-wide segments", check: integer(14, math.MaxInt32)},
	{Name: "segment.index.bytes", Type: kmsg.ConfigTypeInt, Default: "10485760", BrokerSynonym: "log.index.size.max.bytes", Effect: Kept,
		Doc: "kept for compatibility: Weir's index is not per segment", check: integer(4, math.MaxInt32)},
	{Name: "segment.jitter.ms", Type: kmsg.ConfigTypeLong, Default: "0", BrokerSynonym: "log.roll.jitter.ms", Effect: Kept,
		Doc: "kept for compatibility: Weir's commit log is one per node, with node-wide segments", check: long(0)},
	{Name: "segment.ms", Type: kmsg.ConfigTypeLong, Default: "604800000", BrokerSynonym: "log.roll.ms", Effect: Kept,
		Doc: "kept for compatibility: Weir's commit log is one per node, with node-wide segments", check: long(1)},
	{Name: "unclean.leader.election.enable", Type: kmsg.ConfigTypeBoolean, Default: "false", BrokerSynonym: "unclean.leader.election.enable", Effect: Kept,
		Doc: "kept for compatibility: a single node has no leader elections", check: boolean},
}

// TopicConfigs returns Kafka's topic configs, sorted by name.
func TopicConfigs() []TopicConfig { return slices.Clone(topicConfigs) }

// LookupTopicConfig returns the named topic config.
func LookupTopicConfig(name string) (TopicConfig, bool) {
	i, ok := slices.BinarySearchFunc(topicConfigs, name, func(c TopicConfig, name string) int { return strings.Compare(c.Name, name) })
	if !ok {
		return TopicConfig{}, false
	}
	return topicConfigs[i], true
}

// NormalizeTopicConfigs checks configs as a topic's overrides, as
// ValidateTopicConfigs does, and returns them in the form to store: values
// without surrounding spaces, list items likewise, so that every reader
// of a stored value parses it the same way.
func NormalizeTopicConfigs(configs map[string]string) (map[string]string, error) {
	if err := ValidateTopicConfigs(configs); err != nil {
		return nil, err
	}
	normal := make(map[string]string, len(configs))
	for name, value := range configs {
		value = strings.TrimSpace(value)
		if c, _ := LookupTopicConfig(name); c.Type == kmsg.ConfigTypeList && value != "" {
			items := strings.Split(value, ",")
			for i := range items {
				items[i] = strings.TrimSpace(items[i])
			}
			value = strings.Join(items, ",")
		}
		normal[name] = value
	}
	return normal, nil
}

// ValidateTopicConfigs checks configs as a topic's overrides: every name
// must be a topic config and every value valid for it.
func ValidateTopicConfigs(configs map[string]string) error {
	names := make([]string, 0, len(configs))
	for name := range configs {
		names = append(names, name)
	}
	slices.Sort(names) // the first error is the same every time
	for _, name := range names {
		c, ok := LookupTopicConfig(name)
		if !ok {
			return fmt.Errorf("%w: %q is not a topic config", ErrInvalidConfig, name)
		}
		if err := c.Validate(configs[name]); err != nil {
			return err
		}
	}
	return nil
}

func long(minimum int64) func(string) error {
	return func(value string) error {
		v, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil {
			return errors.New("want a long integer")
		}
		if v < minimum {
			return fmt.Errorf("at least %d", minimum)
		}
		return nil
	}
}

func integer(minimum, maximum int64) func(string) error {
	return func(value string) error {
		v, err := strconv.ParseInt(strings.TrimSpace(value), 10, 32)
		if err != nil {
			return errors.New("want an integer")
		}
		if v < minimum || v > maximum {
			return fmt.Errorf("want %d to %d", minimum, maximum)
		}
		return nil
	}
}

func double(minimum, maximum float64) func(string) error {
	return func(value string) error {
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || math.IsNaN(v) {
			return errors.New("want a number")
		}
		if v < minimum || v > maximum {
			return fmt.Errorf("want %g to %g", minimum, maximum)
		}
		return nil
	}
}

func boolean(value string) error {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "true", "false":
		return nil
	}
	return errors.New("want true or false")
}

func oneOf(values ...string) func(string) error {
	return func(value string) error {
		if slices.Contains(values, strings.TrimSpace(value)) {
			return nil
		}
		return fmt.Errorf("want %s", strings.Join(values, " or "))
	}
}

// listOf accepts a comma-separated, non-empty list of the values.
func listOf(values ...string) func(string) error {
	return func(value string) error {
		for item := range strings.SplitSeq(value, ",") {
			if !slices.Contains(values, strings.TrimSpace(item)) {
				return fmt.Errorf("want a list of %s", strings.Join(values, ", "))
			}
		}
		return nil
	}
}

// throttledReplicas accepts "", "*" or partition:broker pairs.
func throttledReplicas(value string) error {
	value = strings.TrimSpace(value)
	if value == "" || value == "*" {
		return nil
	}
	for item := range strings.SplitSeq(value, ",") {
		p, b, ok := strings.Cut(strings.TrimSpace(item), ":")
		if _, err := strconv.ParseUint(p, 10, 31); !ok || err != nil {
			return errors.New("want *, or partition:broker pairs")
		}
		if _, err := strconv.ParseUint(b, 10, 31); err != nil {
			return errors.New("want *, or partition:broker pairs")
		}
	}
	return nil
}
