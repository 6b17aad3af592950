package compat

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
)

// record is a Kafka record as the suite gives it to a client and reads it
// back. Its JSON form is what the scripts read and write: bytes in base64,
// null for a null key or value.
type record struct {
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	Key       []byte   `json:"key"`
	Value     []byte   `json:"value"`
	Headers   []header `json:"headers"`
	Timestamp int64    `json:"timestamp"`
}

// header is a record header. Kafka allows a null header value, which the
// data set does not use: several clients cannot express one.
type header struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

// position is where a produced record landed, as the client reports it.
type position struct {
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
}

// dataSetSize is the number of records in a data set: two rounds of every
// key, value and header shape below.
const dataSetSize = 12

// dataSet returns the records a test produces: dataSetSize records spread
// round-robin over the partitions, with the offsets they must get, and
// timestamps one second apart from base. Between them they have a null key,
// an empty key and binary keys; a null value (a tombstone), an empty value
// and values of binary bytes followed by compressible text (so that every
// codec shrinks a batch and no client falls back to sending it
// uncompressed); no headers, one header, a binary and an empty header
// value, and a repeated header name next to a non-ASCII one. tag tells data
// sets apart.
func dataSet(tag string, partitions int32, base time.Time) []record {
	records := make([]record, 0, dataSetSize)
	next := make([]int64, partitions)
	for i := range dataSetSize {
		p := int32(i) % partitions
		r := record{Partition: p, Offset: next[p], Timestamp: base.UnixMilli() + int64(i)*1000, Headers: []header{}}
		next[p]++
		switch i % 6 {
		case 1:
			r.Key = nil
		case 2:
			r.Key = []byte{}
		default:
			r.Key = append([]byte(fmt.Sprintf("%s-key-%d-", tag, i)), 0x00, 0xff, byte(i))
		}
		switch i % 6 {
		case 3:
			r.Value = nil
		case 4:
			r.Value = []byte{}
		default:
			r.Value = recordValue(tag, i)
		}
		switch i % 4 {
		case 1:
			r.Headers = []header{{Key: "trace-id", Value: []byte(fmt.Sprintf("%s-trace-%d", tag, i))}}
		case 2:
			r.Headers = []header{{Key: "binary", Value: []byte{0x00, 0x01, 0xfe, 0xff, byte(i)}}, {Key: "empty", Value: []byte{}}}
		case 3:
			r.Headers = []header{{Key: "repeated", Value: []byte("first")}, {Key: "repeated", Value: []byte("second")}, {Key: "clé-ключ-鍵", Value: []byte("ünïcödé")}}
		}
		records = append(records, r)
	}
	return records
}

// recordValue is 16 bytes that cover the whole byte range (a xorshift
// sequence seeded by i), then a few hundred bytes of repeated text.
func recordValue(tag string, i int) []byte {
	v := make([]byte, 0, 1024)
	x := uint32(2463534242 + i)
	for range 16 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		v = append(v, byte(x))
	}
	return append(v, strings.Repeat(fmt.Sprintf("%s record %d; ", tag, i), 20+i*4)...)
}

// millis is the time of a timestamp in milliseconds.
func millis(ms int64) time.Time { return time.UnixMilli(ms) }

// sortRecords orders records by partition, then offset: the order in which
// the suite compares what was consumed with what was produced.
func sortRecords(records []record) {
	sort.SliceStable(records, func(i, j int) bool {
		if records[i].Partition != records[j].Partition {
			return records[i].Partition < records[j].Partition
		}
		return records[i].Offset < records[j].Offset
	})
}

// sorted returns a sorted copy of records.
func sorted(records []record) []record {
	out := append([]record(nil), records...)
	sortRecords(out)
	return out
}

// diffRecords compares two lists of records in order, field by field, byte
// for byte: a null key or value differs from an empty one. It returns ""
// when they are equal, else the first difference.
func diffRecords(got, want []record) string {
	for i := range min(len(got), len(want)) {
		if d := diffRecord(got[i], want[i]); d != "" {
			return fmt.Sprintf("record %d (partition %d, offset %d): %s", i, want[i].Partition, want[i].Offset, d)
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%d records, want %d", len(got), len(want))
	}
	return ""
}

func diffRecord(got, want record) string {
	switch {
	case got.Partition != want.Partition || got.Offset != want.Offset:
		return fmt.Sprintf("at partition %d offset %d", got.Partition, got.Offset)
	case !sameBytes(got.Key, want.Key):
		return fmt.Sprintf("key %s, want %s", showBytes(got.Key), showBytes(want.Key))
	case !sameBytes(got.Value, want.Value):
		return fmt.Sprintf("value %s, want %s", showBytes(got.Value), showBytes(want.Value))
	case got.Timestamp != want.Timestamp:
		return fmt.Sprintf("timestamp %d, want %d", got.Timestamp, want.Timestamp)
	case len(got.Headers) != len(want.Headers):
		return fmt.Sprintf("headers %s, want %s", showHeaders(got.Headers), showHeaders(want.Headers))
	}
	for i, h := range want.Headers {
		if got.Headers[i].Key != h.Key || !sameBytes(got.Headers[i].Value, h.Value) {
			return fmt.Sprintf("headers %s, want %s", showHeaders(got.Headers), showHeaders(want.Headers))
		}
	}
	return ""
}

// sameBytes is bytes.Equal that tells nil (null) from empty.
func sameBytes(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}

func showBytes(b []byte) string {
	switch {
	case b == nil:
		return "null"
	case len(b) > 40:
		return fmt.Sprintf("%d bytes %q...", len(b), b[:40])
	}
	return fmt.Sprintf("%q", b)
}

func showHeaders(hs []header) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = fmt.Sprintf("%q=%s", h.Key, showBytes(h.Value))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
