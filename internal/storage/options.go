package storage

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/weir-io/weir/internal/storage/commitlog"
	"github.com/weir-io/weir/internal/vfs"
)

// Options configure an Engine. The zero value of every field but Dir
// selects the default.
type Options struct {
	// Dir is the data directory; the commit log goes to Dir/log and the
	// index to Dir/index.
	Dir string
	// FS is the file system of the commit log (vfs.Default when nil). The
	// index uses Pebble's own file system.
	FS vfs.FS
	// Durability is the fsync policy (durable by default).
	Durability commitlog.Durability
	// SegmentSize is the size of commit log segments (128 MiB).
	SegmentSize int64
	// PageCacheWindow is how much of the log behind the synced position
	// stays in the page cache on the writer's account (512 MiB; negative
	// keeps all of it). See commitlog/sync.go.
	PageCacheWindow int64
	// CheckpointInterval and CheckpointBytes bound the commit log tail that
	// recovery replays: a checkpoint is taken when either is exceeded
	// (30 s, 256 MiB).
	CheckpointInterval time.Duration
	CheckpointBytes    int64
	// CleanerInterval is how often retention, compaction and segment
	// reclamation run (30 s). Zero selects the default; negative disables
	// the background cleaner (tests call RunCleaner).
	CleanerInterval time.Duration
	// CleanerDeadRatio: a closed segment whose dead bytes reach this share
	// has its live batches copied forward and is removed (1/3, which keeps
	// disk use within 1.5 times the live data plus the active segment).
	CleanerDeadRatio float64
	// TopicDefaults are the node's defaults for topic configs.
	TopicDefaults TopicConfig
	// MinFreeBytes is the free space below which appends and topic
	// creations are refused with ErrDiskFull (64 MiB; negative disables
	// the check). The reserve keeps room for the index, whose write-ahead
	// log must never meet a full disk, and for the cleaner, which writes
	// before it frees. Deletions (DeleteRecords, topic deletion) still work.
	MinFreeBytes int64
	// IndexCacheBytes is Pebble's block cache (64 MiB).
	IndexCacheBytes int64
	// ProducerExpiration is producer.id.expiration.ms (1 day): the cleaner
	// forgets a producer's state in a partition once it has not appended
	// there for this long and has no transaction open in it.
	ProducerExpiration time.Duration
	// Logger receives the engine's logs (slog.Default() when nil).
	Logger *slog.Logger
	// LogObserver is told of the commit log's write groups and fsyncs, for
	// metrics (nil tells nobody). See commitlog.Observer.
	LogObserver commitlog.Observer
	// Now is the clock (time.Now when nil); tests inject one.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = commitlog.DefaultSegmentSize
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = 30 * time.Second
	}
	if o.CheckpointBytes <= 0 {
		o.CheckpointBytes = 256 << 20
	}
	if o.CleanerInterval == 0 {
		o.CleanerInterval = 30 * time.Second
	}
	if o.CleanerDeadRatio <= 0 || o.CleanerDeadRatio >= 1 {
		o.CleanerDeadRatio = 1.0 / 3
	}
	if o.TopicDefaults.CleanupPolicy == "" && o.TopicDefaults.MaxMessageBytes == 0 {
		// The zero value: no defaults were given.
		o.TopicDefaults = DefaultTopicConfig()
	}
	o.TopicDefaults.Overrides = nil
	if o.MinFreeBytes == 0 {
		o.MinFreeBytes = 64 << 20
	}
	if o.IndexCacheBytes <= 0 {
		o.IndexCacheBytes = 64 << 20
	}
	if o.ProducerExpiration <= 0 {
		o.ProducerExpiration = 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Cleanup policies, as Kafka's cleanup.policy.
const (
	CleanupDelete        = "delete"
	CleanupCompact       = "compact"
	CleanupCompactDelete = "compact,delete"
)

// TopicConfig holds the topic configs the storage engine acts on, under
// Kafka's names, types, defaults and validation.
type TopicConfig struct {
	// RetentionMs (retention.ms): batches whose max timestamp is older are
	// deleted; -1 keeps them forever. Default 604800000 (7 days).
	RetentionMs int64
	// RetentionBytes (retention.bytes): the oldest batches are deleted
	// while a partition is larger; -1 means no limit (the default).
	RetentionBytes int64
	// CleanupPolicy (cleanup.policy): delete, compact or compact,delete.
	CleanupPolicy string
	// DeleteRetentionMs (delete.retention.ms): how long a tombstone stays
	// after it was appended before compaction may remove it. Default
	// 86400000 (1 day).
	DeleteRetentionMs int64
	// MinCleanableDirtyRatio (min.cleanable.dirty.ratio): compaction runs
	// when the share of a partition not yet compacted reaches it (0.5).
	MinCleanableDirtyRatio float64
	// MaxMessageBytes (max.message.bytes): the largest batch accepted.
	// Default 1048588.
	MaxMessageBytes int32
	// LogAppendTime (message.timestamp.type=LogAppendTime): the broker
	// stamps batches with its clock.
	LogAppendTime bool
	// Overrides are the configs set on the topic itself, under Kafka's
	// names, as the layer above validated them: the ones above and those
	// the engine keeps without acting on (segment.bytes,
	// min.insync.replicas ...). Nil for a config that is not a topic's
	// (node defaults) and for topics created before overrides were kept.
	// A topic with overrides takes the node's current defaults for every
	// other config each time the engine opens.
	Overrides map[string]string
}

// DefaultTopicConfig returns Kafka's defaults.
func DefaultTopicConfig() TopicConfig {
	return TopicConfig{
		RetentionMs:            7 * 24 * 3600 * 1000,
		RetentionBytes:         -1,
		CleanupPolicy:          CleanupDelete,
		DeleteRetentionMs:      24 * 3600 * 1000,
		MinCleanableDirtyRatio: 0.5,
		MaxMessageBytes:        1048588,
	}
}

// Deletes reports whether retention applies.
func (c TopicConfig) Deletes() bool { return strings.Contains(c.CleanupPolicy, CleanupDelete) }

// Compacts reports whether compaction applies.
func (c TopicConfig) Compacts() bool { return strings.Contains(c.CleanupPolicy, CleanupCompact) }

// Config names, as Kafka spells them.
const (
	ConfigRetentionMs            = "retention.ms"
	ConfigRetentionBytes         = "retention.bytes"
	ConfigCleanupPolicy          = "cleanup.policy"
	ConfigDeleteRetentionMs      = "delete.retention.ms"
	ConfigMinCleanableDirtyRatio = "min.cleanable.dirty.ratio"
	ConfigMaxMessageBytes        = "max.message.bytes"
	ConfigMessageTimestampType   = "message.timestamp.type"
)

// With returns c with the named configs set, validated as Kafka does.
// Names the engine does not act on are an error (the broker keeps its own).
func (c TopicConfig) With(configs map[string]string) (TopicConfig, error) {
	for name, value := range configs {
		if err := c.set(name, value); err != nil {
			return c, fmt.Errorf("%w: %s=%q: %v", ErrInvalidConfig, name, value, err)
		}
	}
	return c, nil
}

// WithOverrides returns c (the node's defaults) with a topic's overrides
// applied: the names the engine acts on are set and validated as With
// does, the others kept in Overrides only (the layer above validates
// them). Overrides holds a copy of overrides, never nil.
func (c TopicConfig) WithOverrides(overrides map[string]string) (TopicConfig, error) {
	own := make(map[string]string)
	for name, value := range overrides {
		if engineConfig(name) {
			own[name] = value
		}
	}
	c, err := c.With(own)
	if err != nil {
		return c, err
	}
	c.Overrides = make(map[string]string, len(overrides))
	for name, value := range overrides {
		c.Overrides[name] = value
	}
	return c, nil
}

// engineConfig reports whether the engine acts on the named config.
func engineConfig(name string) bool {
	switch name {
	case ConfigRetentionMs, ConfigRetentionBytes, ConfigCleanupPolicy, ConfigDeleteRetentionMs,
		ConfigMinCleanableDirtyRatio, ConfigMaxMessageBytes, ConfigMessageTimestampType:
		return true
	}
	return false
}

func (c *TopicConfig) set(name, value string) error {
	switch name {
	case ConfigRetentionMs:
		return parseInt(value, -1, &c.RetentionMs)
	case ConfigRetentionBytes:
		return parseInt(value, -1, &c.RetentionBytes)
	case ConfigDeleteRetentionMs:
		return parseInt(value, 0, &c.DeleteRetentionMs)
	case ConfigMaxMessageBytes:
		var v int64
		if err := parseInt(value, 0, &v); err != nil {
			return err
		}
		if v > 1<<30 {
			return fmt.Errorf("at most %d", 1<<30)
		}
		c.MaxMessageBytes = int32(v)
	case ConfigCleanupPolicy:
		parts := strings.Split(strings.ReplaceAll(value, " ", ""), ",")
		del, compact := false, false
		for _, p := range parts {
			switch p {
			case CleanupDelete:
				del = true
			case CleanupCompact:
				compact = true
			default:
				return fmt.Errorf("want delete, compact or both")
			}
		}
		switch {
		case del && compact:
			c.CleanupPolicy = CleanupCompactDelete
		case compact:
			c.CleanupPolicy = CleanupCompact
		default:
			c.CleanupPolicy = CleanupDelete
		}
	case ConfigMinCleanableDirtyRatio:
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || v < 0 || v > 1 {
			return fmt.Errorf("want a number in [0,1]")
		}
		c.MinCleanableDirtyRatio = v
	case ConfigMessageTimestampType:
		switch value {
		case "CreateTime":
			c.LogAppendTime = false
		case "LogAppendTime":
			c.LogAppendTime = true
		default:
			return fmt.Errorf("want CreateTime or LogAppendTime")
		}
	default:
		return fmt.Errorf("not a config of the storage engine")
	}
	return nil
}

// Map returns the configs the engine acts on, under Kafka's names.
func (c TopicConfig) Map() map[string]string {
	ts := "CreateTime"
	if c.LogAppendTime {
		ts = "LogAppendTime"
	}
	return map[string]string{
		ConfigRetentionMs:            strconv.FormatInt(c.RetentionMs, 10),
		ConfigRetentionBytes:         strconv.FormatInt(c.RetentionBytes, 10),
		ConfigCleanupPolicy:          c.CleanupPolicy,
		ConfigDeleteRetentionMs:      strconv.FormatInt(c.DeleteRetentionMs, 10),
		ConfigMinCleanableDirtyRatio: strconv.FormatFloat(c.MinCleanableDirtyRatio, 'g', -1, 64),
		ConfigMaxMessageBytes:        strconv.FormatInt(int64(c.MaxMessageBytes), 10),
		ConfigMessageTimestampType:   ts,
	}
}

func parseInt(value string, minimum int64, dst *int64) error {
	v, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return fmt.Errorf("want an integer")
	}
	if v < minimum {
		return fmt.Errorf("at least %d", minimum)
	}
	*dst = v
	return nil
}
