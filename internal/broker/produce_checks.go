package broker

// Checks of a produced batch against the topic configs the broker enforces
// itself, before the storage engine appends it: min.insync.replicas for
// acks=all (a single node is one in-sync replica, so a topic asking for
// more refuses such produces with NOT_ENOUGH_REPLICAS, as Kafka does when
// its ISR is too small), and, for CreateTime topics,
// message.timestamp.before.max.ms and message.timestamp.after.max.ms
// (KIP-937: a record whose timestamp is too far from the broker's clock
// is INVALID_TIMESTAMP, and the whole batch is refused).

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage"
)

var (
	// errNotEnoughReplicas: NOT_ENOUGH_REPLICAS (19).
	errNotEnoughReplicas = errors.New("not enough in-sync replicas")
	// errInvalidTimestamp: INVALID_TIMESTAMP (32).
	errInvalidTimestamp = errors.New("record timestamp out of the range the topic accepts")
)

// timestampRecordsLimit bounds the decompressed records a timestamp check
// decodes.
const timestampRecordsLimit = 256 << 20

// checkProduce applies the checks to one partition's batch.
func checkProduce(config storage.TopicConfig, batch []byte, acks int16, now time.Time) error {
	if len(config.Overrides) == 0 {
		return nil
	}
	if acks == -1 {
		if v, ok := config.Overrides["min.insync.replicas"]; ok {
			if n, _ := strconv.Atoi(v); n > 1 {
				return fmt.Errorf("%w: min.insync.replicas is %d and this node is the only replica", errNotEnoughReplicas, n)
			}
		}
	}
	if config.LogAppendTime {
		return nil
	}
	before, hasBefore := overrideLong(config, "message.timestamp.before.max.ms")
	after, hasAfter := overrideLong(config, "message.timestamp.after.max.ms")
	if !hasBefore && !hasAfter {
		return nil
	}
	h, records, err := recordbatch.Records(batch, timestampRecordsLimit)
	if err != nil {
		return errors.Join(storage.ErrCorruptMessage, err)
	}
	nowMs := now.UnixMilli()
	for i := range records {
		ts := h.TimestampOf(&records[i])
		if ts == -1 {
			continue // no timestamp (a client of magic 0), exempt as on Kafka
		}
		// Differences, not bounds, so that Kafka's default of the
		// largest long cannot overflow.
		if hasBefore && nowMs-ts > before || hasAfter && ts-nowMs > after {
			return fmt.Errorf("%w: %d, the broker's clock is %d", errInvalidTimestamp, ts, nowMs)
		}
	}
	return nil
}

// overrideLong returns a long config set on the topic.
func overrideLong(config storage.TopicConfig, name string) (int64, bool) {
	v, ok := config.Overrides[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}
