package flow

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A buffer keeps records by key and event time in a window store (start =
// the record's time), for the operators that must see records again: the
// two sides of a stream-stream join, the records of sliding windows. Records
// of one key and time share one store value, a list of entries, each
//
//	flags  (1 byte: bit 0 set once the entry has joined a record)
//	length (uvarint)
//	value  (length bytes: the record's value as the stream's codec
//	        encodes it)
//
// Entries keep their order of arrival.
type bufferEntry struct {
	matched bool
	value   []byte
}

var errBadBuffer = errors.New("flow: a malformed buffer entry")

// encodeBuffer encodes a list of entries.
func encodeBuffer(entries []bufferEntry) []byte {
	var b []byte
	for _, e := range entries {
		flags := byte(0)
		if e.matched {
			flags = 1
		}
		b = append(b, flags)
		b = binary.AppendUvarint(b, uint64(len(e.value)))
		b = append(b, e.value...)
	}
	return b
}

// decodeBuffer decodes a list of entries; their values alias b.
func decodeBuffer(b []byte) ([]bufferEntry, error) {
	var out []bufferEntry
	for len(b) > 0 {
		flags := b[0]
		n, size := binary.Uvarint(b[1:])
		if size <= 0 || flags > 1 || n > uint64(len(b)-1-size) || size != len(binary.AppendUvarint(nil, n)) {
			return nil, errBadBuffer
		}
		start := 1 + size
		out = append(out, bufferEntry{matched: flags == 1, value: b[start : start+int(n)]})
		b = b[start+int(n):]
	}
	return out, nil
}

// bufferAppend adds an entry to the list of key at ts.
func bufferAppend(st *taskStore, key []byte, ts int64, e bufferEntry) error {
	old, _, err := st.windows.Get(key, ts)
	if err != nil {
		return err
	}
	entries, err := decodeBuffer(old)
	if err != nil {
		return fmt.Errorf("store %s: %w", st.def.name, err)
	}
	return st.putWindow(key, ts, encodeBuffer(append(entries, e)))
}

// bufferExpire deletes the lists at or before last, calling each (if not
// nil) with every entry first, in order of time.
func bufferExpire(st *taskStore, last int64, each func(key []byte, ts int64, e bufferEntry) error) error {
	expired, err := st.removeUpTo(last)
	if err != nil || each == nil {
		return err
	}
	for _, l := range expired {
		entries, err := decodeBuffer(l.value)
		if err != nil {
			return fmt.Errorf("store %s: %w", st.def.name, err)
		}
		for _, e := range entries {
			if err := each(l.key, l.t, e); err != nil {
				return err
			}
		}
	}
	return nil
}
