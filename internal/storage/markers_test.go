package storage

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
)

func TestDecodeMarker(t *testing.T) {
	tests := []struct {
		name       string
		key, value []byte
		want       txnMarker
		ok         bool
	}{
		{"abort", []byte{0, 0, 0, 0}, []byte{0, 0, 0, 0, 0, 5}, txnMarker{commit: false, coordinatorEpoch: 5}, true},
		{"commit", []byte{0, 0, 0, 1}, []byte{0, 0, 0xff, 0xff, 0xff, 0xff}, txnMarker{commit: true, coordinatorEpoch: -1}, true},
		{"later versions read as 0, longer key and value", []byte{0, 3, 0, 1, 9, 9}, []byte{0, 1, 0, 0, 0, 2, 7}, txnMarker{commit: true, coordinatorEpoch: 2}, true},
		{"no key", nil, []byte{0, 0, 0, 0, 0, 0}, txnMarker{}, false},
		{"short key", []byte{0, 0, 0}, []byte{0, 0, 0, 0, 0, 0}, txnMarker{}, false},
		{"negative key version", []byte{0xff, 0xff, 0, 0}, []byte{0, 0, 0, 0, 0, 0}, txnMarker{}, false},
		{"leader change, not a marker", []byte{0, 0, 0, 2}, []byte{0, 0, 0, 0, 0, 0}, txnMarker{}, false},
		{"unknown type", []byte{0, 0, 0xff, 0xff}, []byte{0, 0, 0, 0, 0, 0}, txnMarker{}, false},
		{"no value", []byte{0, 0, 0, 1}, nil, txnMarker{}, false},
		{"short value", []byte{0, 0, 0, 1}, []byte{0, 0, 0, 0, 0}, txnMarker{}, false},
		{"negative value version", []byte{0, 0, 0, 1}, []byte{0x80, 0, 0, 0, 0, 0}, txnMarker{}, false},
	}
	for _, tt := range tests {
		got, err := decodeMarker(tt.key, tt.value)
		switch {
		case tt.ok && (err != nil || got != tt.want):
			t.Errorf("%s: %+v, %v; want %+v", tt.name, got, err, tt.want)
		case !tt.ok && !errors.Is(err, errMarker):
			t.Errorf("%s: %+v, %v; want an error", tt.name, got, err)
		}
	}
}

// controlBatch builds a control batch of producer 4 holding records.
func controlBatch(t testing.TB, records ...kmsg.Record) []byte {
	t.Helper()
	for i := range records {
		records[i].OffsetDelta = int32(i)
	}
	h := recordbatch.Header{
		PartitionLeaderEpoch: -1, Magic: 2, Attributes: transactionalControl, LastOffsetDelta: int32(max(len(records)-1, 0)),
		BaseTimestamp: 1000, MaxTimestamp: 1000, ProducerID: 4, ProducerEpoch: 0, BaseSequence: -1,
	}
	b, err := recordbatch.Build(h, records)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func controlRecord(key, value []byte) kmsg.Record {
	r := kmsg.NewRecord()
	r.Key, r.Value = key, value
	return r
}

// A control batch that is not a valid marker is refused, and changes
// nothing.
func TestAppendRefusesBadMarkers(t *testing.T) {
	e := openTest(t, testOptions(t.TempDir()))
	defer e.Close()
	if _, err := e.CreateTopic("t", 1, e.TopicDefaults()); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	if _, err := p.Append(txnBatch(t, 4, 0, rec{value: []byte("v")})); err != nil {
		t.Fatal(err)
	}
	abort := controlRecord([]byte{0, 0, 0, 0}, []byte{0, 0, 0, 0, 0, 0})
	bad := map[string][]byte{
		"a leader change record":  controlBatch(t, controlRecord([]byte{0, 0, 0, 2}, []byte{0, 0, 0, 0, 0, 0})),
		"a short key":             controlBatch(t, controlRecord([]byte{0, 0}, []byte{0, 0, 0, 0, 0, 0})),
		"no value":                controlBatch(t, controlRecord([]byte{0, 0, 0, 0}, nil)),
		"two markers":             controlBatch(t, abort, abort),
		"a control batch of none": controlBatch(t),
	}
	for name, batch := range bad {
		if _, err := p.Append(batch); !errors.Is(err, ErrCorruptMessage) {
			t.Errorf("%s: %v, want a corrupt message", name, err)
		}
	}
	if off := p.Offsets(); off.LogEnd != 1 || len(p.mu.txns.open) != 1 {
		t.Fatalf("after refused markers: %+v, open %v", off, p.mu.txns.open)
	}
	if _, err := p.Append(controlBatch(t, abort)); err != nil {
		t.Fatal(err)
	}
	if aborted, _ := p.AbortedTransactions(0, 10); len(aborted) != 1 {
		t.Fatalf("aborted %v", aborted)
	}
}

// FuzzDecodeMarker: any key and value decode to a marker or to an error
// (never a panic), exactly when they are well formed.
func FuzzDecodeMarker(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0}, []byte{0, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 1}, []byte{0, 0, 0, 0, 0, 9})
	f.Add([]byte{0, 0, 0, 2}, []byte{0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0, 1}, []byte{0, 0})
	f.Add([]byte{}, []byte(nil))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		m, err := decodeMarker(key, value)
		valid := len(key) >= 4 && int16(binary.BigEndian.Uint16(key)) >= 0 &&
			(binary.BigEndian.Uint16(key[2:]) == controlAbort || binary.BigEndian.Uint16(key[2:]) == controlCommit) &&
			len(value) >= 6 && int16(binary.BigEndian.Uint16(value)) >= 0
		if valid != (err == nil) {
			t.Fatalf("key %x value %x: %+v, %v", key, value, m, err)
		}
		if valid && (m.commit != (key[3] == controlCommit) || m.coordinatorEpoch != int32(binary.BigEndian.Uint32(value[2:]))) {
			t.Fatalf("key %x value %x: %+v", key, value, m)
		}
	})
}

// FuzzMarkerBatch: whatever bytes come as a control batch, decoding its
// marker gives a marker or an error, never a panic; and appending them
// never panics, and a refused batch changes nothing.
func FuzzMarkerBatch(f *testing.F) {
	commit, err := NewMarkerBatch(3, 1, true, 4, 1000)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(commit)
	f.Add(controlBatch(f, controlRecord([]byte{0, 0, 0, 2}, nil)))
	f.Add([]byte{})
	e := openTest(f, testOptions(f.TempDir()))
	f.Cleanup(func() { e.Close() })
	if _, err := e.CreateTopic("t", 1, e.TopicDefaults()); err != nil {
		f.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	f.Fuzz(func(t *testing.T, batch []byte) {
		m, err := markerOf(batch)
		if err == nil {
			if h, _ := recordbatch.ReadHeader(batch); !h.Control() {
				t.Fatalf("a marker %+v in a batch that is not a control batch", m)
			}
		}
		before := p.Offsets().LogEnd
		res, err := p.Append(append([]byte(nil), batch...))
		if err != nil && p.Offsets().LogEnd != before {
			t.Fatalf("a refused batch moved the log end: %v", err)
		}
		if err == nil && res.BaseOffset != before {
			t.Fatalf("appended at %d, log end was %d", res.BaseOffset, before)
		}
	})
}
