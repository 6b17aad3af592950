package store

// Keys in Pebble (format version 1).
//
// These encodings are part of the on-disk format of a task's local state;
// they change only with the format version held under "f". Integers are
// big-endian. A time t (int64 milliseconds) is stored "flipped", as
// uint64(t) ^ 1<<63, so that keys sort by time, negative times first.
//
//	"f"                        format version: one byte, 1
//	"c"                        checkpoint: the changelog offsets the stores
//	                           reflect (checkpoint.go)
//	"n" + store name           store record: byte kind, uint32 id, int64
//	                           segment interval in ms (0 for kinds without
//	                           segments)
//	"e" + uint32 id            a store's stream time: flipped int64, saved
//	                           with each checkpoint
//	"s" + uint32 id + ...      the store's data, laid out by kind below
//
// K below is a user key with its length before it: uint32 length, then the
// bytes. As the length comes first, no K is a prefix of another K, so the
// entries of one user key are contiguous and never interleave with those
// of a key that extends it ("ab" is not "a" followed by "b..."). Within a
// time, keys sort by length, then bytewise.
//
// Key-value (keyvalue.go): the user key itself; as the store owns
// everything after its prefix, no length is needed and keys sort bytewise.
//
//	"s" id + key                                value
//
// Windowed (windowed.go, segmented.go). Windows live in segments of
// time, found by key, and a time index lists them by time; a segment is
// floor(start / interval).
//
//	"s" id "w" + flipped segment + K + flipped start     value
//	"s" id "t" + flipped start + K                       empty
//
// Session: as windowed, the time being the session's end, and its start
// after the key.
//
//	"s" id "w" + flipped segment + K + flipped end + flipped start   value
//	"s" id "t" + flipped end + K + flipped start                     empty
//
// Versioned (versioned.go): the versions of a key, newest first (the
// valid-from time stored complemented), and an expiry index listing each
// version that may be dropped by the time after which it may be.
//
//	"s" id "v" + K + ^flipped valid-from           byte tag (0 deletion,
//	                                               1 value) + value
//	"s" id "x" + flipped drop time + K + flipped valid-from   empty

import (
	"encoding/binary"
	"math"
)

const formatVersion = 1

// Prefixes of the DB's keys; part of the on-disk format.
const (
	prefixFormat     = 'f'
	prefixCheckpoint = 'c'
	prefixStore      = 'n'
	prefixStreamTime = 'e'
	prefixData       = 's'
)

// Prefixes inside a store's data; part of the on-disk format.
const (
	areaWindows  = 'w' // windowed and session: entries by segment and key
	areaTimes    = 't' // windowed and session: time index
	areaVersions = 'v' // versioned: versions by key, newest first
	areaExpiry   = 'x' // versioned: expiry index
)

var (
	keyFormat     = []byte{prefixFormat}
	keyCheckpoint = []byte{prefixCheckpoint}
)

// kind is the kind of a store; part of the on-disk format.
type kind byte

const (
	kindKeyValue  kind = 1
	kindWindowed  kind = 2
	kindSession   kind = 3
	kindVersioned kind = 4
)

func (k kind) String() string {
	switch k {
	case kindKeyValue:
		return "key-value"
	case kindWindowed:
		return "windowed"
	case kindSession:
		return "session"
	case kindVersioned:
		return "versioned"
	}
	return "unknown"
}

// storeRecord is what the DB keeps of a store under "n" + name.
type storeRecord struct {
	kind     kind
	id       uint32
	interval int64 // segment interval in ms; 0 for kinds without segments
}

const storeRecordSize = 1 + 4 + 8

func storeRecordKey(name string) []byte { return append([]byte{prefixStore}, name...) }

func encodeStoreRecord(r storeRecord) []byte {
	v := make([]byte, storeRecordSize)
	v[0] = byte(r.kind)
	binary.BigEndian.PutUint32(v[1:5], r.id)
	binary.BigEndian.PutUint64(v[5:13], uint64(r.interval))
	return v
}

func decodeStoreRecord(v []byte) (storeRecord, bool) {
	if len(v) != storeRecordSize {
		return storeRecord{}, false
	}
	return storeRecord{
		kind:     kind(v[0]),
		id:       binary.BigEndian.Uint32(v[1:5]),
		interval: int64(binary.BigEndian.Uint64(v[5:13])),
	}, true
}

func streamTimeKey(id uint32) []byte {
	k := make([]byte, 5)
	k[0] = prefixStreamTime
	binary.BigEndian.PutUint32(k[1:], id)
	return k
}

// dataPrefix is the prefix of every key of store id.
func dataPrefix(id uint32) []byte {
	k := make([]byte, 5)
	k[0] = prefixData
	binary.BigEndian.PutUint32(k[1:], id)
	return k
}

// area returns the prefix of one area of a store's data.
func area(prefix []byte, a byte) []byte {
	k := make([]byte, len(prefix)+1, len(prefix)+1+32)
	copy(k, prefix)
	k[len(prefix)] = a
	return k
}

const timeSize = 8

// appendTime appends t flipped, so that it sorts as a signed number.
func appendTime(b []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(t)^(1<<63))
}

// appendTimeDescending appends t so that later times sort first.
func appendTimeDescending(b []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(b, ^(uint64(t) ^ (1 << 63)))
}

// readTime reads a time appended by appendTime; b holds at least 8 bytes.
func readTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

// readTimeDescending reads a time appended by appendTimeDescending.
func readTimeDescending(b []byte) int64 {
	return int64(^binary.BigEndian.Uint64(b) ^ (1 << 63))
}

// appendUserKey appends key with its length before it (K above).
func appendUserKey(b, key []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(key)))
	return append(b, key...)
}

// readUserKey splits b into a user key appended by appendUserKey and the
// rest; ok is false if b is too short.
func readUserKey(b []byte) (key, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(len(b)-4) < uint64(n) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

// prefixEnd returns the smallest key greater than every key starting with
// prefix, or nil if there is none (prefix is all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// floorDiv is t / d rounded towards minus infinity; d > 0.
func floorDiv(t, d int64) int64 {
	q := t / d
	if t%d != 0 && t < 0 {
		q--
	}
	return q
}

// minusSaturating is t - d, clamped at math.MinInt64; d >= 0.
func minusSaturating(t, d int64) int64 {
	if t < math.MinInt64+d {
		return math.MinInt64
	}
	return t - d
}
