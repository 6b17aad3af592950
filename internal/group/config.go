package group

import (
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/weir-io/weir/internal/group/consumer"
)

// Config holds the coordinator's settings, with Kafka's names.
type Config struct {
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms (3 s): how
	// long the first rebalance of an empty classic group waits for more
	// members, extended by each one that joins, up to the rebalance
	// timeout.
	InitialRebalanceDelay time.Duration
	// MinSessionTimeout and MaxSessionTimeout are
	// group.min.session.timeout.ms (6 s) and group.max.session.timeout.ms
	// (30 min): a classic member asking for a session timeout outside them
	// gets INVALID_SESSION_TIMEOUT.
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// MaxSize is group.max.size: the most members of a classic group (0:
	// no limit).
	MaxSize int
	// OffsetsRetention is offsets.retention.minutes (7 days): committed
	// offsets of a group that has been empty this long, or of a group
	// without a protocol committed this long ago, are deleted.
	OffsetsRetention time.Duration
	// OffsetsRetentionCheckInterval is
	// offsets.retention.check.interval.ms (10 min).
	OffsetsRetentionCheckInterval time.Duration
	// OffsetMetadataMaxBytes is offset.metadata.max.bytes (4096): a commit
	// with longer metadata gets OFFSET_METADATA_TOO_LARGE.
	OffsetMetadataMaxBytes int
	// Consumer configures KIP-848 consumer groups.
	Consumer consumer.Config
	// NewID returns a random id; member ids are made from it (crypto/rand
	// when nil; tests inject their own).
	NewID func() string
}

// Defaults of Config, as Kafka's.
const (
	DefaultInitialRebalanceDelay         = 3 * time.Second
	DefaultMinSessionTimeout             = 6 * time.Second
	DefaultMaxSessionTimeout             = 30 * time.Minute
	DefaultOffsetsRetention              = 7 * 24 * time.Hour
	DefaultOffsetsRetentionCheckInterval = 10 * time.Minute
	DefaultOffsetMetadataMaxBytes        = 4096
)

func (c Config) withDefaults() Config {
	if c.InitialRebalanceDelay < 0 {
		c.InitialRebalanceDelay = 0
	}
	if c.MinSessionTimeout <= 0 {
		c.MinSessionTimeout = DefaultMinSessionTimeout
	}
	if c.MaxSessionTimeout <= 0 {
		c.MaxSessionTimeout = DefaultMaxSessionTimeout
	}
	if c.OffsetsRetention <= 0 {
		c.OffsetsRetention = DefaultOffsetsRetention
	}
	if c.OffsetsRetentionCheckInterval <= 0 {
		c.OffsetsRetentionCheckInterval = DefaultOffsetsRetentionCheckInterval
	}
	if c.OffsetMetadataMaxBytes <= 0 {
		c.OffsetMetadataMaxBytes = DefaultOffsetMetadataMaxBytes
	}
	if c.NewID == nil {
		c.NewID = randomID
	}
	if c.Consumer.NewMemberID == nil {
		c.Consumer.NewMemberID = c.NewID
	}
	return c
}

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{InitialRebalanceDelay: DefaultInitialRebalanceDelay}.withDefaults()
}

// randomID returns 16 random bytes in URL-safe base64 without padding (22
// characters), the form of Kafka's Uuid.toString().
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
