package storage

import (
	"errors"
	"fmt"

	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage/commitlog"
)

// Errors the engine returns, wrapped with context; match them with
// errors.Is. The Kafka error code the broker answers with is given beside
// each.
var (
	// ErrUnknownTopicOrPartition: UNKNOWN_TOPIC_OR_PARTITION (3).
	ErrUnknownTopicOrPartition = errors.New("storage: unknown topic or partition")
	// ErrTopicExists: TOPIC_ALREADY_EXISTS (36).
	ErrTopicExists = errors.New("storage: topic already exists")
	// ErrInvalidTopic: INVALID_TOPIC_EXCEPTION (17).
	ErrInvalidTopic = errors.New("storage: invalid topic name")
	// ErrInvalidPartitions: INVALID_PARTITIONS (37).
	ErrInvalidPartitions = errors.New("storage: invalid partition count")
	// ErrInvalidConfig: INVALID_CONFIG (40).
	ErrInvalidConfig = errors.New("storage: invalid config")
	// ErrOffsetOutOfRange: OFFSET_OUT_OF_RANGE (1).
	ErrOffsetOutOfRange = errors.New("storage: offset out of range")
	// ErrCorruptMessage: CORRUPT_MESSAGE (2). The batch failed validation.
	ErrCorruptMessage = errors.New("storage: corrupt record batch")
	// ErrUnsupportedMagic: UNSUPPORTED_FOR_MESSAGE_FORMAT (43). Only v2
	// batches (magic 2) are stored.
	ErrUnsupportedMagic = errors.New("storage: record batch magic is not 2")
	// ErrMessageTooLarge: MESSAGE_TOO_LARGE (10).
	ErrMessageTooLarge = errors.New("storage: record batch larger than max.message.bytes")
	// ErrStorage: KAFKA_STORAGE_ERROR (56). The disk failed (full, I/O
	// error) or stored bytes are damaged; the engine keeps serving.
	ErrStorage = errors.New("storage: storage error")
	// ErrDiskFull: KAFKA_STORAGE_ERROR (56). Free space is below
	// Options.MinFreeBytes; it wraps ErrStorage.
	ErrDiskFull = fmt.Errorf("%w: disk full", ErrStorage)
	// ErrPolicyViolation: POLICY_VIOLATION (44). DeleteRecords on a topic
	// whose cleanup.policy does not include delete.
	ErrPolicyViolation = errors.New("storage: not allowed by the topic's cleanup.policy")
	// ErrClosed: the engine is closed (the broker is shutting down).
	ErrClosed = errors.New("storage: engine closed")
)

// batchError maps a validation error of the recordbatch package.
func batchError(err error) error {
	switch {
	case errors.Is(err, recordbatch.ErrMagic):
		return fmt.Errorf("%w: %v", ErrUnsupportedMagic, err)
	case errors.Is(err, recordbatch.ErrTooLarge):
		return fmt.Errorf("%w: %v", ErrMessageTooLarge, err)
	default:
		return fmt.Errorf("%w: %v", ErrCorruptMessage, err)
	}
}

// logError maps an error of the commit log: I/O failures and damaged bytes
// are storage errors.
func logError(op string, err error) error {
	if errors.Is(err, commitlog.ErrClosed) {
		return fmt.Errorf("%s: %w", op, ErrClosed)
	}
	return fmt.Errorf("%s: %w: %w", op, ErrStorage, err)
}
