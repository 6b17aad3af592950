package store

// Changelog records.
//
// A store reports each change it makes to its Logger as the record its
// changelog topic keeps, and Restore applies such a record. These
// encodings are part of the changelog format: a task restores from records
// that an earlier version of it wrote, so they change only compatibly.
// Integers are big-endian; times are int64 milliseconds, two's complement
// (not flipped as in Pebble keys).
//
//	key-value   key:   the user key
//	            value: the value; nil deletes the key
//	windowed    key:   user key + int64 window start
//	            value: the window's value; nil deletes the window
//	session     key:   user key + int64 end + int64 start (the order of
//	                   Kafka Streams' session key schema)
//	            value: the session's value; nil removes the session
//	versioned   key:   user key + int64 valid-from time
//	            value: byte 1 + value: a version of the key
//	                   byte 0: a deletion, the key absent from valid-from on
//	                   nil: the version is gone (it expired), so that
//	                   compaction removes its record
//
// A versioned deletion is not a nil value because compaction removes the
// records of nil values: the earlier versions would then come back as the
// latest on restore.

import (
	"encoding/binary"
	"fmt"
)

// Change is one change of a store as its changelog topic records it: Key
// and Value (a nil Value is a tombstone), encoded as listed in
// changelog.go for the store's kind. Timestamp is the time the change is
// about where the store has one (window start, session end, valid-from)
// and 0 for key-value stores; the changelog writer may give the record the
// timestamp of the record being processed instead, as Kafka Streams does:
// Restore does not read it.
type Change struct {
	Key, Value []byte
	Timestamp  int64
}

// Logger receives every change a store makes, in order, after the store
// has made it; nil: the store is not logged. It is called on the goroutine
// writing to the store. It may keep the slices: the store does not modify
// them (a key-value store passes the caller's key and value as they are).
type Logger func(Change)

func windowedChangelogKey(key []byte, start int64) []byte {
	b := make([]byte, 0, len(key)+timeSize)
	b = append(b, key...)
	return binary.BigEndian.AppendUint64(b, uint64(start))
}

func decodeWindowedChangelogKey(b []byte) (key []byte, start int64, err error) {
	if len(b) < timeSize {
		return nil, 0, fmt.Errorf("%w: windowed key of %d bytes, shorter than its start", ErrMalformedChange, len(b))
	}
	n := len(b) - timeSize
	return b[:n], int64(binary.BigEndian.Uint64(b[n:])), nil
}

func sessionChangelogKey(key []byte, start, end int64) []byte {
	b := make([]byte, 0, len(key)+2*timeSize)
	b = append(b, key...)
	b = binary.BigEndian.AppendUint64(b, uint64(end))
	return binary.BigEndian.AppendUint64(b, uint64(start))
}

func decodeSessionChangelogKey(b []byte) (key []byte, start, end int64, err error) {
	if len(b) < 2*timeSize {
		return nil, 0, 0, fmt.Errorf("%w: session key of %d bytes, shorter than its end and start", ErrMalformedChange, len(b))
	}
	n := len(b) - 2*timeSize
	end = int64(binary.BigEndian.Uint64(b[n:]))
	start = int64(binary.BigEndian.Uint64(b[n+timeSize:]))
	if start > end {
		return nil, 0, 0, fmt.Errorf("%w: session starts at %d after its end %d", ErrMalformedChange, start, end)
	}
	return b[:n], start, end, nil
}

func versionedChangelogKey(key []byte, validFrom int64) []byte {
	return windowedChangelogKey(key, validFrom)
}

func decodeVersionedChangelogKey(b []byte) (key []byte, validFrom int64, err error) {
	if len(b) < timeSize {
		return nil, 0, fmt.Errorf("%w: versioned key of %d bytes, shorter than its valid-from time", ErrMalformedChange, len(b))
	}
	n := len(b) - timeSize
	return b[:n], int64(binary.BigEndian.Uint64(b[n:])), nil
}

// Tags of a version's value, in the changelog and in Pebble alike.
const (
	tagDeletion = 0
	tagValue    = 1
)

// encodeVersion encodes a version's value: nil (a deletion) as the tag
// alone, anything else after the value tag.
func encodeVersion(value []byte) []byte {
	if value == nil {
		return []byte{tagDeletion}
	}
	b := make([]byte, 1+len(value))
	b[0] = tagValue
	copy(b[1:], value)
	return b
}

// decodeVersion decodes a version's value encoded by encodeVersion;
// deleted reports a deletion.
func decodeVersion(b []byte) (value []byte, deleted bool, err error) {
	switch {
	case len(b) == 0:
		return nil, false, fmt.Errorf("%w: empty versioned value", ErrMalformedChange)
	case b[0] == tagDeletion && len(b) == 1:
		return nil, true, nil
	case b[0] == tagValue:
		return b[1:], false, nil
	}
	return nil, false, fmt.Errorf("%w: versioned value of %d bytes with tag %d", ErrMalformedChange, len(b), b[0])
}
