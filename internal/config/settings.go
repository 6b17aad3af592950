package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/group"
	"github.com/weir-io/weir/internal/storage"
	"github.com/weir-io/weir/internal/storage/commitlog"
	"github.com/weir-io/weir/internal/txn"
)

// Setting is one setting of `weir serve`.
type Setting struct {
	// Key is the setting's YAML key (log_segment_bytes); Flag and Env
	// derive from it.
	Key string
	// Group is the heading it is listed under.
	Group string
	// Type names the kind of value: string, int, bool, bytes (an integer,
	// or one with KiB, MiB, GiB or TiB), duration (Go's syntax: 500ms, 30s,
	// 5m), ratio, host:port, or the choices (text|json).
	Type string
	// Default is the value when nothing sets it, as written in a file.
	Default string
	// Usage says what it does, in one sentence or two.
	Usage string

	set func(c *Config, value string) error // parses, validates, stores
	get func(c *Config) string              // formats, as set reads it
}

// Flag returns the setting's command-line flag, without the dashes.
func (s Setting) Flag() string { return strings.ReplaceAll(s.Key, "_", "-") }

// Env returns the setting's environment variable.
func (s Setting) Env() string { return "WEIR_" + strings.ToUpper(s.Key) }

// Value returns the setting's value in c, as a file would write it.
func (s Setting) Value(c Config) string { return s.get(&c) }

// Settings returns the table of settings, in the order they are listed.
func Settings() []Setting { return append([]Setting(nil), settings...) }

// The groups settings are listed under.
const (
	groupNode       = "Node"
	groupKafka      = "Kafka listener"
	groupStorage    = "Storage"
	groupTopics     = "Topic defaults"
	groupGroups     = "Consumer groups"
	groupTxn        = "Transactions"
	groupOperations = "Logs and metrics"
)

// settings is the table. Its order is the order of --help, of
// --print-config and of docs/configuration.md.
var settings = []Setting{
	stringSetting(groupNode, "data_dir", "path", "~/.weir/data",
		"Data directory: the commit log, the index and the catalog. A leading ~/ is the home directory.",
		nil, func(c *Config) *string { return &c.DataDir }).withSet(expandHome),
	intSetting(groupNode, "node_id", int32(1), 1, 1<<31-1,
		"This node's id, as Metadata reports it (Kafka's node.id).",
		func(c *Config) *int32 { return &c.NodeID }),
	stringSetting(groupNode, "cluster_id", "string", "weir",
		"The cluster's id, as Metadata reports it.",
		nonEmpty, func(c *Config) *string { return &c.ClusterID }),

	stringSetting(groupKafka, "listen", "host:port", "127.0.0.1:9092",
		"Address to listen on for Kafka clients. The default reaches this machine only; :9092 listens on every interface.",
		checkAddress(false), func(c *Config) *string { return &c.Listen }),
	stringSetting(groupKafka, "advertised_host", "string", "",
		"Host that Metadata tells clients to connect to; empty: the listener's host.",
		nil, func(c *Config) *string { return &c.AdvertisedHost }),
	intSetting(groupKafka, "advertised_port", int32(0), 0, 65535,
		"Port that Metadata tells clients to connect to; 0: the listener's port.",
		func(c *Config) *int32 { return &c.AdvertisedPort }),
	boolSetting(groupKafka, "auto_create_topics_enable", true,
		"Create a topic when a producer or consumer names one that does not exist (Kafka's auto.create.topics.enable).",
		func(c *Config) *bool { return &c.AutoCreateTopics }),
	intSetting(groupKafka, "num_partitions", int32(1), 1, storage.MaxPartitionsPerTopic,
		"Partitions of auto-created topics (Kafka's num.partitions).",
		func(c *Config) *int32 { return &c.NumPartitions }),
	bytesSetting(groupKafka, "socket_request_max_bytes", 100<<20,
		"Largest request accepted; a client announcing a larger one is disconnected (Kafka's socket.request.max.bytes).",
		between(1<<10, 1<<31-1), func(c *Config) *int64 { return &c.SocketRequestMaxBytes }),

	{Key: "durability", Group: groupStorage, Type: "policy", Default: "durable",
		Usage: "When writes are fsynced: durable (before acknowledging a produce with acks=all), interval:<duration> (every duration, acknowledging at once) or none (when the operating system writes back).",
		set: func(c *Config, s string) error {
			d, err := commitlog.ParseDurability(strings.TrimSpace(s))
			if err != nil {
				return errors.New("want durable, interval:<duration> (interval:10ms) or none")
			}
			c.Durability = d
			return nil
		},
		get: func(c *Config) string { return c.Durability.String() }},
	bytesSetting(groupStorage, "log_segment_bytes", commitlog.DefaultSegmentSize,
		"Size of the commit log's segment files, which all partitions share (Kafka's log.segment.bytes, per node rather than per partition).",
		between(1<<20, 1<<40), func(c *Config) *int64 { return &c.LogSegmentBytes }),
	durationSetting(groupStorage, "checkpoint_interval", 30*time.Second,
		"Longest time between checkpoints of the index; with checkpoint_bytes, it bounds the log that recovery replays after a crash.",
		func(c *Config) *time.Duration { return &c.CheckpointInterval }),
	bytesSetting(groupStorage, "checkpoint_bytes", 256<<20,
		"Most log written between checkpoints of the index.",
		between(1<<20, 1<<40), func(c *Config) *int64 { return &c.CheckpointBytes }),
	durationSetting(groupStorage, "cleaner_interval", 30*time.Second,
		"How often the cleaner applies retention and compaction and reclaims segments.",
		func(c *Config) *time.Duration { return &c.CleanerInterval }),
	bytesSetting(groupStorage, "min_free_bytes", 64<<20,
		"Free disk space below which produces and topic creations are refused (deletions still work); 0 turns the check off.",
		between(0, 1<<50), func(c *Config) *int64 { return &c.MinFreeBytes }),
	bytesSetting(groupStorage, "index_cache_bytes", 64<<20,
		"Memory for the index's block cache (Pebble).",
		between(1<<20, 1<<50), func(c *Config) *int64 { return &c.IndexCacheBytes }),
	durationSetting(groupStorage, "producer_id_expiration", 24*time.Hour,
		"How long a partition keeps an idempotent or transactional producer's state (its last sequence numbers) after the producer's last append there, unless a transaction of it is open (Kafka's producer.id.expiration.ms).",
		func(c *Config) *time.Duration { return &c.ProducerIDExpiration }),
	bytesSetting(groupStorage, "page_cache_window_bytes", commitlog.DefaultPageCacheWindow,
		"How much of the log behind the last fsync stays in the page cache on the writer's account; older pages are dropped from it. -1 keeps everything, as Kafka does.",
		pageCacheWindow, func(c *Config) *int64 { return &c.PageCacheWindowBytes }),

	topicSetting("log_retention_ms", storage.ConfigRetentionMs, "int",
		"Milliseconds a batch is kept (by its newest timestamp) before retention deletes it; -1 keeps it forever."),
	topicSetting("log_retention_bytes", storage.ConfigRetentionBytes, "bytes",
		"Largest size of a partition before retention deletes its oldest batches; -1: no limit."),
	topicSetting("log_cleanup_policy", storage.ConfigCleanupPolicy, "string",
		"delete (retention), compact (the latest record per key is kept) or compact,delete."),
	topicSetting("log_cleaner_delete_retention_ms", storage.ConfigDeleteRetentionMs, "int",
		"Milliseconds a tombstone stays in a compacted topic after it was written."),
	topicSetting("log_cleaner_min_cleanable_ratio", storage.ConfigMinCleanableDirtyRatio, "ratio",
		"Share of a compacted partition not yet compacted at which compaction runs."),
	topicSetting("message_max_bytes", storage.ConfigMaxMessageBytes, "bytes",
		"Largest record batch accepted."),
	topicSetting("log_message_timestamp_type", storage.ConfigMessageTimestampType, "CreateTime|LogAppendTime",
		"CreateTime keeps the producer's timestamps; LogAppendTime stamps batches with the node's clock."),

	delaySetting(groupGroups, "group_initial_rebalance_delay", group.DefaultInitialRebalanceDelay,
		"How long the first rebalance of an empty classic group waits for more members, extended by each that joins, up to the rebalance timeout (Kafka's group.initial.rebalance.delay.ms).",
		func(c *Config) *time.Duration { return &c.Groups.InitialRebalanceDelay }),
	durationSetting(groupGroups, "group_min_session_timeout", group.DefaultMinSessionTimeout,
		"Shortest session timeout a classic member may ask for (Kafka's group.min.session.timeout.ms).",
		func(c *Config) *time.Duration { return &c.Groups.MinSessionTimeout }),
	durationSetting(groupGroups, "group_max_session_timeout", group.DefaultMaxSessionTimeout,
		"Longest session timeout a classic member may ask for (Kafka's group.max.session.timeout.ms).",
		func(c *Config) *time.Duration { return &c.Groups.MaxSessionTimeout }),
	intSetting(groupGroups, "group_max_size", int64(0), 0, 1<<31-1,
		"Most members of a classic group; 0: no limit (Kafka's group.max.size).",
		func(c *Config) *int64 { return &c.GroupMaxSize }),
	durationSetting(groupGroups, "group_consumer_session_timeout", 45*time.Second,
		"Session timeout of members of KIP-848 consumer groups (Kafka's group.consumer.session.timeout.ms).",
		func(c *Config) *time.Duration { return &c.Groups.Consumer.SessionTimeout }),
	durationSetting(groupGroups, "group_consumer_heartbeat_interval", 5*time.Second,
		"Heartbeat interval the broker gives members of KIP-848 consumer groups (Kafka's group.consumer.heartbeat.interval.ms).",
		func(c *Config) *time.Duration { return &c.Groups.Consumer.HeartbeatInterval }),
	intSetting(groupGroups, "group_consumer_max_size", int64(0), 0, 1<<31-1,
		"Most members of a KIP-848 consumer group; 0: no limit (Kafka's group.consumer.max.size).",
		func(c *Config) *int64 { return &c.GroupConsumerMaxSize }),
	{Key: "group_consumer_assignors", Group: groupGroups, Type: "list", Default: "uniform,range",
		Usage: "Server-side assignors of KIP-848 consumer groups, the first the default: uniform, range (Kafka's group.consumer.assignors).",
		set: func(c *Config, s string) error {
			var names []string
			for _, n := range strings.Split(s, ",") {
				n = strings.TrimSpace(n)
				if n != "uniform" && n != "range" {
					return errors.New("want a comma-separated list of uniform and range")
				}
				names = append(names, n)
			}
			c.Groups.Consumer.Assignors = names
			return nil
		},
		get: func(c *Config) string { return strings.Join(c.Groups.Consumer.Assignors, ",") }},
	durationSetting(groupGroups, "offsets_retention", group.DefaultOffsetsRetention,
		"How long committed offsets are kept once their group is empty, or after the commit for consumers that only commit (Kafka's offsets.retention.minutes).",
		func(c *Config) *time.Duration { return &c.Groups.OffsetsRetention }),
	durationSetting(groupGroups, "offsets_retention_check_interval", group.DefaultOffsetsRetentionCheckInterval,
		"How often expired offsets are looked for (Kafka's offsets.retention.check.interval.ms).",
		func(c *Config) *time.Duration { return &c.Groups.OffsetsRetentionCheckInterval }),
	intSetting(groupGroups, "offset_metadata_max_bytes", int64(group.DefaultOffsetMetadataMaxBytes), 0, 1<<20,
		"Longest metadata string of a committed offset (Kafka's offset.metadata.max.bytes).",
		func(c *Config) *int64 { return &c.OffsetMetadataMaxBytes }),

	intSetting(groupTxn, "transaction_version", int32(broker.TransactionVersionDefault), 1, 2,
		"The finalized level of the feature transaction.version: 2 (KIP-890 part 2: a producer's epoch bumped by every commit and abort, partitions added by the produce itself) to clients that support it, as a new Kafka 4 cluster; 1 for every client as before Kafka 4.",
		func(c *Config) *int32 { return &c.TransactionVersion }),
	durationSetting(groupTxn, "transaction_max_timeout", txn.DefaultMaxTimeout,
		"Longest transaction timeout a producer may ask for (Kafka's transaction.max.timeout.ms).",
		func(c *Config) *time.Duration { return &c.TransactionMaxTimeout }),
	durationSetting(groupTxn, "transactional_id_expiration", txn.DefaultIDExpiration,
		"How long a transactional id without an open transaction is kept after its last use (Kafka's transactional.id.expiration.ms).",
		func(c *Config) *time.Duration { return &c.TransactionalIDExpiration }),

	stringSetting(groupOperations, "metrics_listen", "host:port", "127.0.0.1:9644",
		"Address of the HTTP listener for /metrics, /healthz and /readyz; empty turns it off.",
		checkAddress(true), func(c *Config) *string { return &c.MetricsListen }),
	enumSetting(groupOperations, "log_level", "info", []string{"debug", "info", "warn", "error"},
		"Least severe level of the log lines written.",
		func(c *Config) *string { return &c.LogLevel }),
	enumSetting(groupOperations, "log_format", "text", []string{"text", "json"},
		"Log lines as key=value text or as JSON objects, on standard error.",
		func(c *Config) *string { return &c.LogFormat }),
}

// withSet returns s with its value transformed by f before s stores it.
func (s Setting) withSet(f func(string) (string, error)) Setting {
	set := s.set
	s.set = func(c *Config, value string) error {
		v, err := f(value)
		if err != nil {
			return err
		}
		return set(c, v)
	}
	return s
}

// homeDir is os.UserHomeDir; tests replace it.
var homeDir = os.UserHomeDir

// expandHome replaces a leading ~/ with the home directory.
func expandHome(path string) (string, error) {
	if path == "" {
		return "", errors.New("want a directory")
	}
	rest, ok := strings.CutPrefix(path, "~/")
	switch {
	case path == "~":
		rest = ""
	case !ok:
		return path, nil
	}
	home, err := homeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, rest), nil
}

func nonEmpty(s string) error {
	if s == "" {
		return errors.New("want a value")
	}
	return nil
}

// pageCacheWindow accepts -1, or at least 1 MiB (the engine reads 0 as
// its default).
func pageCacheWindow(v int64) error {
	if v != -1 && (v < 1<<20 || v > 1<<50) {
		return errors.New("want -1 (keep everything) or 1MiB to 1024TiB")
	}
	return nil
}

// topicSetting is the node's default of a topic config, under the name of
// Kafka's broker config that supplies it (log.retention.ms for
// retention.ms). The storage engine validates it as it validates the
// topic config, and its default is the engine's.
func topicSetting(key, topicConfig, typ, usage string) Setting {
	def := storage.DefaultTopicConfig().Map()[topicConfig]
	toTopic := func(s string) (string, error) { return strings.TrimSpace(s), nil }
	fromTopic := func(s string) string { return s }
	if typ == "bytes" {
		toTopic = func(s string) (string, error) {
			v, err := parseBytes(s)
			return strconv.FormatInt(v, 10), err
		}
		fromTopic = func(s string) string {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return s
			}
			return formatBytes(v)
		}
	}
	return Setting{
		Key: key, Group: groupTopics, Type: typ, Default: fromTopic(def),
		Usage: usage + " Default of the topic config " + topicConfig + ".",
		set: func(c *Config, s string) error {
			v, err := toTopic(s)
			if err != nil {
				return err
			}
			tc, err := c.TopicDefaults.With(map[string]string{topicConfig: v})
			if err != nil {
				return err
			}
			c.TopicDefaults = tc
			return nil
		},
		get: func(c *Config) string { return fromTopic(c.TopicDefaults.Map()[topicConfig]) },
	}
}
