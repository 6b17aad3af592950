package group

// The __consumer_offsets partition. The coordinator's durable state is a
// compacted partition of the storage engine, in Kafka's own record format
// (so that tools that read Kafka's __consumer_offsets read ours), encoded
// with kmsg's definitions of it:
//
//	key    OffsetCommitKey, version 1: int16 version, group, topic
//	       (int16-length strings), int32 partition
//	value  OffsetCommitValue, version 3: int16 version, int64 offset,
//	       int32 leader epoch, metadata (int16-length string), int64
//	       commit timestamp (ms)
//	       or none: a tombstone, the offset was deleted
//
// Replay reads keys of versions 0 and 1 (offsets); other keys (version 2,
// Kafka's group metadata) are skipped: memberships are not kept across
// restarts. Compaction keeps the last record of each key.

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetsTopic is the internal topic holding committed offsets.
const OffsetsTopic = "__consumer_offsets"

// Record is one record of the offsets topic; a nil Value is a tombstone.
type Record struct {
	Key, Value []byte
}

// offsetKey encodes the key of a committed offset.
func offsetKey(group string, tp topicPartition) []byte {
	k := kmsg.NewOffsetCommitKey()
	k.Version, k.Group, k.Topic, k.Partition = 1, group, tp.topic, tp.partition
	return k.AppendTo(nil)
}

// offsetRecord returns the record of a committed offset.
func offsetRecord(group string, tp topicPartition, v committed) Record {
	val := kmsg.NewOffsetCommitValue()
	val.Version, val.Offset, val.LeaderEpoch, val.Metadata, val.CommitTimestamp = 3, v.offset, v.leaderEpoch, v.metadata, v.commitTime
	return Record{Key: offsetKey(group, tp), Value: val.AppendTo(nil)}
}

// offsetTombstone returns the record deleting a committed offset.
func offsetTombstone(group string, tp topicPartition) Record {
	return Record{Key: offsetKey(group, tp)}
}

// Replay applies one record of the offsets topic read back at start, in
// log order. Records it does not know are skipped; an offset record it
// cannot decode is an error (and skipped).
func (c *Coordinator) Replay(key, value []byte) error {
	if len(key) < 2 {
		return fmt.Errorf("offsets record key of %d bytes", len(key))
	}
	switch version := int16(key[0])<<8 | int16(key[1]); version {
	case 0, 1:
	default:
		return nil
	}
	var k kmsg.OffsetCommitKey
	if err := k.ReadFrom(key); err != nil {
		return fmt.Errorf("offsets record key: %w", err)
	}
	tp := topicPartition{k.Topic, k.Partition}
	c.lock()
	defer c.unlock()
	if value == nil {
		if e := c.group(k.Group); e != nil {
			delete(e.offsets, tp)
			c.settle(e)
		}
		return nil
	}
	var v kmsg.OffsetCommitValue
	if err := v.ReadFrom(value); err != nil {
		return fmt.Errorf("offsets record of group %q, %s/%d: %w", k.Group, k.Topic, k.Partition, err)
	}
	epoch := v.LeaderEpoch
	if v.Version < 3 {
		epoch = -1
	}
	e := c.getOrCreate(k.Group)
	e.offsets[tp] = &committed{offset: v.Offset, leaderEpoch: epoch, metadata: v.Metadata, commitTime: v.CommitTimestamp, seq: c.nextSeq()}
	return nil
}
