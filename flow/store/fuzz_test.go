package store

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// The fuzzers feed Restore arbitrary changelog records: a record either
// restores or fails with ErrMalformedChange, never panics; one that
// restores reads back.

func FuzzKeyValueRestore(f *testing.F) {
	f.Add([]byte("k"), []byte("v"), false)
	f.Add([]byte{}, []byte{}, true)
	kv, err := openMemory(f).KeyValue("kv", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key, value []byte, tombstone bool) {
		if tombstone {
			value = nil
		} else if value == nil {
			value = []byte{}
		}
		if err := kv.Restore(Change{Key: key, Value: value}); err != nil {
			t.Fatal(err)
		}
		got, found, err := kv.Get(key)
		if err != nil || found == tombstone || !bytes.Equal(got, value) {
			t.Fatalf("Get = %q, %v, %v after restoring %q", got, found, err, value)
		}
	})
}

func FuzzWindowedRestore(f *testing.F) {
	f.Add([]byte("k"+be8(0)), []byte("v"))
	f.Add([]byte("k"+be8(-1)), []byte(nil))
	f.Add([]byte("short"), []byte("v"))
	w, err := openMemory(f).Windowed("w", time.Hour, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, record, value []byte) {
		err := w.Restore(Change{Key: record, Value: value})
		key, start, derr := decodeWindowedChangelogKey(record)
		if derr != nil {
			if !errors.Is(err, ErrMalformedChange) {
				t.Fatalf("Restore of malformed %x: %v", record, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(windowedChangelogKey(key, start), record) {
			t.Fatalf("key %x decodes to %q at %d, which encodes differently", record, key, start)
		}
		got, found, err := w.Get(key, start)
		if err != nil {
			t.Fatal(err)
		}
		if start >= minusSaturating(w.StreamTime(), time.Hour.Milliseconds()) &&
			(found != (value != nil) || !bytes.Equal(got, value)) {
			t.Fatalf("Get = %q, %v after restoring %q", got, found, value)
		}
	})
}

func FuzzSessionRestore(f *testing.F) {
	f.Add([]byte("k"+be8(10)+be8(0)), []byte("v"))
	f.Add([]byte("k"+be8(0)+be8(10)), []byte("v"))
	f.Add([]byte("short"), []byte(nil))
	s, err := openMemory(f).Session("s", time.Hour, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, record, value []byte) {
		err := s.Restore(Change{Key: record, Value: value})
		key, start, end, derr := decodeSessionChangelogKey(record)
		if derr != nil {
			if !errors.Is(err, ErrMalformedChange) {
				t.Fatalf("Restore of malformed %x: %v", record, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sessionChangelogKey(key, start, end), record) {
			t.Fatalf("key %x decodes to %q [%d, %d], which encodes differently", record, key, start, end)
		}
		got, found, err := s.Get(key, start, end)
		if err != nil {
			t.Fatal(err)
		}
		if end >= minusSaturating(s.StreamTime(), time.Hour.Milliseconds()) &&
			(found != (value != nil) || !bytes.Equal(got, value)) {
			t.Fatalf("Get = %q, %v after restoring %q", got, found, value)
		}
	})
}

func FuzzVersionedRestore(f *testing.F) {
	f.Add([]byte("k"+be8(10)), []byte("\x01v"))
	f.Add([]byte("k"+be8(20)), []byte("\x00"))
	f.Add([]byte("k"+be8(10)), []byte(nil))
	f.Add([]byte("short"), []byte("\x02"))
	s, err := openMemory(f).Versioned("v", time.Hour, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, record, value []byte) {
		err := s.Restore(Change{Key: record, Value: value})
		key, validFrom, derr := decodeVersionedChangelogKey(record)
		if derr == nil && value != nil {
			_, _, derr = decodeVersion(value)
		}
		if derr != nil {
			if !errors.Is(err, ErrMalformedChange) {
				t.Fatalf("Restore of malformed %x = %x: %v", record, value, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if value == nil || validFrom < minusSaturating(s.StreamTime(), time.Hour.Milliseconds()) {
			return
		}
		// The version restored is the one valid at its valid-from.
		want, deleted, _ := decodeVersion(value)
		got, from, found, err := s.GetAsOf(key, validFrom)
		if err != nil {
			t.Fatal(err)
		}
		if found == deleted || !bytes.Equal(got, want) || (found && from != validFrom) {
			t.Fatalf("GetAsOf = %q from %d, %v after restoring %x at %d", got, from, found, value, validFrom)
		}
	})
}

func FuzzDecodeCheckpoint(f *testing.F) {
	f.Add(encodeCheckpoint(map[string]int64{"a": 1, "b": 2}))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		offsets, err := decodeCheckpoint(b)
		if err != nil {
			return
		}
		if again, err := decodeCheckpoint(encodeCheckpoint(offsets)); err != nil || len(again) != len(offsets) {
			t.Fatalf("%x decodes to %v, which does not round-trip: %v", b, offsets, err)
		}
	})
}
