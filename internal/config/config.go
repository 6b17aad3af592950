package config

import (
	"time"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/group"
	"github.com/weir-io/weir/internal/storage"
	"github.com/weir-io/weir/internal/storage/commitlog"
	"github.com/weir-io/weir/internal/txn"
)

// Config is the configuration of one node, every field set: Load fills it
// from the defaults, the file, the environment and the flags. Each field
// holds the setting named in its comment; the table (settings.go)
// documents them.
type Config struct {
	DataDir   string // data_dir
	NodeID    int32  // node_id
	ClusterID string // cluster_id

	Listen                string // listen
	AdvertisedHost        string // advertised_host
	AdvertisedPort        int32  // advertised_port
	AutoCreateTopics      bool   // auto_create_topics_enable
	NumPartitions         int32  // num_partitions
	SocketRequestMaxBytes int64  // socket_request_max_bytes

	Durability           commitlog.Durability // durability
	LogSegmentBytes      int64                // log_segment_bytes
	CheckpointInterval   time.Duration        // checkpoint_interval
	CheckpointBytes      int64                // checkpoint_bytes
	CleanerInterval      time.Duration        // cleaner_interval
	MinFreeBytes         int64                // min_free_bytes (0: no check)
	IndexCacheBytes      int64                // index_cache_bytes
	PageCacheWindowBytes int64                // page_cache_window_bytes
	ProducerIDExpiration time.Duration        // producer_id_expiration

	// TopicDefaults are the node's defaults of topic configs: log_retention_ms,
	// log_retention_bytes, log_cleanup_policy, log_cleaner_delete_retention_ms,
	// log_cleaner_min_cleanable_ratio, message_max_bytes,
	// log_message_timestamp_type.
	TopicDefaults storage.TopicConfig

	// Groups holds the group_* and offsets_* settings but the three
	// integers below, which the table keeps as int64.
	Groups                 group.Config
	GroupMaxSize           int64 // group_max_size
	GroupConsumerMaxSize   int64 // group_consumer_max_size
	OffsetMetadataMaxBytes int64 // offset_metadata_max_bytes

	TransactionVersion        int32         // transaction_version
	TransactionMaxTimeout     time.Duration // transaction_max_timeout
	TransactionalIDExpiration time.Duration // transactional_id_expiration

	MetricsListen string // metrics_listen ("": no metrics listener)
	LogLevel      string // log_level
	LogFormat     string // log_format
}

// Defaults returns the configuration when nothing is set. It fails only
// when the default data directory, under the home directory, cannot be
// found.
func Defaults() (Config, error) {
	var c Config
	for _, s := range settings {
		if err := s.set(&c, s.Default); err != nil {
			return Config{}, &Error{Source: "default", Key: s.Key, Value: s.Default, Err: err}
		}
	}
	return c, nil
}

// Broker returns the broker's configuration (Logger and Observer unset).
func (c Config) Broker() broker.Config {
	return broker.Config{
		Listen:            c.Listen,
		AdvertisedHost:    c.AdvertisedHost,
		AdvertisedPort:    c.AdvertisedPort,
		NodeID:            c.NodeID,
		ClusterID:         c.ClusterID,
		MaxRequestBytes:   int32(c.SocketRequestMaxBytes),
		DisableAutoCreate: !c.AutoCreateTopics,
		DefaultPartitions: c.NumPartitions,
		Groups:            c.groups(),
		Transactions: txn.Config{
			MaxTimeout:   c.TransactionMaxTimeout,
			IDExpiration: c.TransactionalIDExpiration,
		},
		TransactionVersion: int16(c.TransactionVersion),
	}
}

// groups returns the group coordinator's configuration.
func (c Config) groups() *group.Config {
	g := c.Groups
	g.MaxSize = int(c.GroupMaxSize)
	g.Consumer.MaxSize = int(c.GroupConsumerMaxSize)
	g.OffsetMetadataMaxBytes = int(c.OffsetMetadataMaxBytes)
	return &g
}

// Storage returns the storage engine's options (Logger and LogObserver
// unset).
func (c Config) Storage() storage.Options {
	minFree := c.MinFreeBytes
	if minFree == 0 {
		minFree = -1 // the engine reads 0 as its default
	}
	return storage.Options{
		Dir:                c.DataDir,
		Durability:         c.Durability,
		SegmentSize:        c.LogSegmentBytes,
		PageCacheWindow:    c.PageCacheWindowBytes,
		CheckpointInterval: c.CheckpointInterval,
		CheckpointBytes:    c.CheckpointBytes,
		CleanerInterval:    c.CleanerInterval,
		TopicDefaults:      c.TopicDefaults,
		MinFreeBytes:       minFree,
		IndexCacheBytes:    c.IndexCacheBytes,
		ProducerExpiration: c.ProducerIDExpiration,
	}
}
