package txn

import (
	"fmt"
	"time"
)

// Config holds the coordinator's settings, under Kafka's names. Zero
// values take Kafka's defaults.
type Config struct {
	// MaxTimeout is transaction.max.timeout.ms (15 min): InitProducerId
	// asking for a longer transaction timeout (or one not positive) gets
	// INVALID_TRANSACTION_TIMEOUT.
	MaxTimeout time.Duration
	// IDExpiration is transactional.id.expiration.ms (7 days): a
	// transactional id without an open transaction that has not been used
	// for this long is deleted.
	IDExpiration time.Duration
	// ExpirationCheckInterval is
	// transaction.remove.expired.transaction.cleanup.interval.ms (1 h):
	// how often Tick looks for transactional ids to expire. (Timed out
	// transactions are aborted at the first Tick after their timeout, not
	// on Kafka's 10 s schedule.)
	ExpirationCheckInterval time.Duration
	// ProducerIDBlockSize is how many producer ids are reserved by one
	// durable record (Kafka's controller hands out blocks of 1000).
	ProducerIDBlockSize int32
	// CoordinatorEpoch is written in every marker, so that partitions can
	// refuse markers of an older coordinator (Kafka's leader epoch of the
	// __transaction_state partition). A single node may leave it 0.
	CoordinatorEpoch int32
	// OffsetsPartition is the partition of __consumer_offsets that holds
	// the offsets of a group: AddOffsetsToTxn adds it to the transaction.
	// Nil means partition 0 of __consumer_offsets for every group.
	OffsetsPartition func(group string) TopicPartition
	// PartitionExists reports whether a partition exists; AddPartitionsToTxn
	// answers UNKNOWN_TOPIC_OR_PARTITION for those that do not (and
	// OPERATION_NOT_ATTEMPTED for the others of the request). Nil means
	// every partition exists.
	PartitionExists func(topic string, partition int32) bool
}

// Kafka's defaults for Config.
const (
	DefaultMaxTimeout              = 15 * time.Minute
	DefaultIDExpiration            = 7 * 24 * time.Hour
	DefaultExpirationCheckInterval = time.Hour
	DefaultProducerIDBlockSize     = 1000
)

// offsetsTopic is the internal topic of committed offsets (package group's
// OffsetsTopic).
const offsetsTopic = "__consumer_offsets"

// Validate reports settings New would not use as given.
func (c Config) Validate() error {
	if c.MaxTimeout < 0 || c.IDExpiration < 0 || c.ExpirationCheckInterval < 0 || c.ProducerIDBlockSize < 0 {
		return fmt.Errorf("txn: negative timeout, expiration, interval or block size")
	}
	if c.MaxTimeout > time.Duration(1<<31-1)*time.Millisecond {
		return fmt.Errorf("txn: transaction.max.timeout.ms %v does not fit 31 bits of milliseconds", c.MaxTimeout)
	}
	return nil
}

// withDefaults fills in the zero settings.
func (c Config) withDefaults() Config {
	if c.MaxTimeout <= 0 {
		c.MaxTimeout = DefaultMaxTimeout
	}
	if c.IDExpiration <= 0 {
		c.IDExpiration = DefaultIDExpiration
	}
	if c.ExpirationCheckInterval <= 0 {
		c.ExpirationCheckInterval = DefaultExpirationCheckInterval
	}
	if c.ProducerIDBlockSize <= 0 {
		c.ProducerIDBlockSize = DefaultProducerIDBlockSize
	}
	if c.OffsetsPartition == nil {
		c.OffsetsPartition = func(string) TopicPartition { return TopicPartition{offsetsTopic, 0} }
	}
	if c.PartitionExists == nil {
		c.PartitionExists = func(string, int32) bool { return true }
	}
	return c
}
