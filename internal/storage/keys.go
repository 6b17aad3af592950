package storage

// Index and catalog keys in Pebble (format version 1).
//
// These encodings are part of the on-disk format; docs/storage.md describes
// the same bytes. Integers are big-endian so that keys sort numerically.
//
//	"c"                         checkpoint: uint64 log position C. Pebble
//	                            holds the effect of every log entry below C.
//	"n"                         counters: uint64 next partition id, uint64
//	                            next topic id (ids are never reused)
//	"t" + topic name            topic: JSON topicRecord (catalog.go)
//	"p" + uint64 partition id   partition: uint64 topic id, int32 index,
//	                            int64 log start offset, int64 offset up to
//	                            which compaction has run
//	"i" + uint64 partition id   index entry of one batch (indexEntry):
//	    + int64 base offset       uint64 log position, uint32 entry size,
//	                            int32 last offset delta, int64 max
//	                            timestamp, int64 append time
//	"x" + uint64 partition id   time index: the batch at this base offset
//	    + uint64 running max      raised the partition's running maximum
//	      timestamp ^ 1<<63       timestamp to this value. Value: int64
//	                            base offset.
//	"r" + uint64 partition id   an idempotent producer's state (producers.go)
//	    + int64 producer id
//	"o" + uint64 partition id   an open transaction (transactions.go): int64
//	    + int64 producer id       first offset
//	"a" + uint64 partition id   an aborted transaction (transactions.go):
//	    + int64 last offset       int64 producer id, int64 first offset,
//	                            int64 stable offset
//	"w" + uint64 partition id   int64 base offset of the last transactional
//	                            batch or marker the "o" and "a" keys hold
//	                            (transactions.go)

import (
	"encoding/binary"
	"fmt"
	"math"
)

const (
	prefixCheckpoint = 'c'
	prefixTopic      = 't'
	prefixPartition  = 'p'
	prefixIndex      = 'i'
	prefixTime       = 'x'
)

var (
	keyCheckpoint = []byte{prefixCheckpoint}
	keyCounters   = []byte{'n'}
)

// indexEntry locates one batch of a partition in the commit log.
type indexEntry struct {
	base       int64  // base offset of the batch
	position   uint64 // log position of the entry
	size       uint32 // bytes of the entry, header included
	lastDelta  int32  // last offset - base offset
	maxTs      int64  // the batch's max timestamp
	appendTime int64  // broker clock when appended (ms)
}

const indexValueSize = 8 + 4 + 4 + 8 + 8

func (e indexEntry) last() int64 { return e.base + int64(e.lastDelta) }

// batchBytes is the size of the Kafka batch the entry holds.
func (e indexEntry) batchBytes() int64 {
	return int64(e.size) - int64(entryOverhead)
}

func indexKey(partition uint64, base int64) []byte {
	var k [17]byte
	return putIndexKey(&k, partition, base)
}

// putIndexKey encodes an index key into k and returns it.
func putIndexKey(k *[17]byte, partition uint64, base int64) []byte {
	k[0] = prefixIndex
	binary.BigEndian.PutUint64(k[1:9], partition)
	binary.BigEndian.PutUint64(k[9:17], uint64(base))
	return k[:]
}

// partitionPrefix returns the key range [lo, hi) of one partition's keys
// under a prefix.
func partitionRange(prefix byte, partition uint64) ([]byte, []byte) {
	lo := make([]byte, 9)
	lo[0] = prefix
	binary.BigEndian.PutUint64(lo[1:], partition)
	hi := make([]byte, 9)
	hi[0] = prefix
	if partition == math.MaxUint64 {
		hi[0]++
	} else {
		binary.BigEndian.PutUint64(hi[1:], partition+1)
	}
	return lo, hi
}

func encodeIndexValue(e indexEntry) []byte {
	var v [indexValueSize]byte
	return putIndexValue(&v, e)
}

// putIndexValue encodes an index value into v and returns it.
func putIndexValue(v *[indexValueSize]byte, e indexEntry) []byte {
	binary.BigEndian.PutUint64(v[0:8], e.position)
	binary.BigEndian.PutUint32(v[8:12], e.size)
	binary.BigEndian.PutUint32(v[12:16], uint32(e.lastDelta))
	binary.BigEndian.PutUint64(v[16:24], uint64(e.maxTs))
	binary.BigEndian.PutUint64(v[24:32], uint64(e.appendTime))
	return v[:]
}

// decodeIndex decodes an index key and value.
func decodeIndex(key, value []byte) (uint64, indexEntry, error) {
	if len(key) != 17 || key[0] != prefixIndex || len(value) != indexValueSize {
		return 0, indexEntry{}, fmt.Errorf("malformed index entry (key %d bytes, value %d bytes)", len(key), len(value))
	}
	e := indexEntry{
		base:       int64(binary.BigEndian.Uint64(key[9:17])),
		position:   binary.BigEndian.Uint64(value[0:8]),
		size:       binary.BigEndian.Uint32(value[8:12]),
		lastDelta:  int32(binary.BigEndian.Uint32(value[12:16])),
		maxTs:      int64(binary.BigEndian.Uint64(value[16:24])),
		appendTime: int64(binary.BigEndian.Uint64(value[24:32])),
	}
	return binary.BigEndian.Uint64(key[1:9]), e, nil
}

func timeKey(partition uint64, runningMax int64) []byte {
	k := make([]byte, 17)
	k[0] = prefixTime
	binary.BigEndian.PutUint64(k[1:9], partition)
	binary.BigEndian.PutUint64(k[9:17], uint64(runningMax)^(1<<63))
	return k
}

func decodeTimeKey(key []byte) int64 {
	return int64(binary.BigEndian.Uint64(key[9:17]) ^ (1 << 63))
}

func partitionKey(partition uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefixPartition
	binary.BigEndian.PutUint64(k[1:], partition)
	return k
}

// partitionRecord is the durable part of a partition's state; the rest is
// derived from the index when the engine opens.
type partitionRecord struct {
	topicID     uint64
	index       int32
	logStart    int64
	cleanedUpTo int64
}

func encodePartitionRecord(r partitionRecord) []byte {
	v := make([]byte, 28)
	binary.BigEndian.PutUint64(v[0:8], r.topicID)
	binary.BigEndian.PutUint32(v[8:12], uint32(r.index))
	binary.BigEndian.PutUint64(v[12:20], uint64(r.logStart))
	binary.BigEndian.PutUint64(v[20:28], uint64(r.cleanedUpTo))
	return v
}

func decodePartitionRecord(v []byte) (partitionRecord, error) {
	if len(v) != 28 {
		return partitionRecord{}, fmt.Errorf("malformed partition record of %d bytes", len(v))
	}
	return partitionRecord{
		topicID:     binary.BigEndian.Uint64(v[0:8]),
		index:       int32(binary.BigEndian.Uint32(v[8:12])),
		logStart:    int64(binary.BigEndian.Uint64(v[12:20])),
		cleanedUpTo: int64(binary.BigEndian.Uint64(v[20:28])),
	}, nil
}

func topicKey(name string) []byte { return append([]byte{prefixTopic}, name...) }

// counters are the next ids to hand out.
type counters struct {
	nextPartitionID uint64
	nextTopicID     uint64
}

func encodeCounters(c counters) []byte {
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v[0:8], c.nextPartitionID)
	binary.BigEndian.PutUint64(v[8:16], c.nextTopicID)
	return v
}

func decodeCounters(v []byte) (counters, error) {
	if len(v) != 16 {
		return counters{}, fmt.Errorf("malformed counters of %d bytes", len(v))
	}
	return counters{
		nextPartitionID: binary.BigEndian.Uint64(v[0:8]),
		nextTopicID:     binary.BigEndian.Uint64(v[8:16]),
	}, nil
}
