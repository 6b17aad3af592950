package flow

import (
	"bytes"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// appendBytes is an appendFunc for []byte values.
func appendBytes(dst []byte, v any) ([]byte, error) { return append(dst, v.([]byte)...), nil }

// valueOf is a value of n bytes, all c.
func valueOf(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }

// encodeAll encodes values into the arena, failing the test on an error.
func encodeAll(t *testing.T, va *sendArena, values ...[]byte) [][]byte {
	t.Helper()
	var out [][]byte
	for _, v := range values {
		b, err := va.encode(appendBytes, v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, v) {
			t.Fatalf("encoded %d bytes %q..., want %d", len(b), b[:min(len(b), 8)], len(v))
		}
		out = append(out, b)
	}
	return out
}

func TestSendArenaValuesConsecutive(t *testing.T) {
	var va sendArena
	got := encodeAll(t, &va, valueOf('a', 10), valueOf('b', 20), nil, valueOf('c', 5))
	if len(va.values) != 1 || va.valueOff != 35 {
		t.Fatalf("%d chunks, offset %d; want 1 chunk, offset 35", len(va.values), va.valueOff)
	}
	if &got[1][0] != &va.values[0][10] || &got[3][0] != &va.values[0][30] {
		t.Error("values are not one after another in the chunk")
	}
	if got[2] == nil {
		t.Error("an empty encoding came back nil, which Kafka reads as null")
	}
	for i, b := range got {
		if cap(b) != len(b) {
			t.Errorf("value %d: capacity %d beyond its length %d", i, cap(b), len(b))
		}
	}
	// Appending to a value must not overwrite the next one.
	_ = append(got[0], 'x')
	if got[1][0] != 'b' {
		t.Errorf("appending to a value changed the next: %q", got[1][:1])
	}
}

func TestSendArenaValuesChunkFull(t *testing.T) {
	var va sendArena
	first := encodeAll(t, &va, valueOf('a', arenaChunkSize-10))
	// Does not fit in the 10 bytes left: a buffer of its own, and the
	// next value goes to a new chunk.
	own := encodeAll(t, &va, valueOf('b', 20))
	if &own[0][0] == &va.values[0][arenaChunkSize-10] {
		t.Fatal("a value went past its chunk's end")
	}
	next := encodeAll(t, &va, valueOf('c', 5))
	if len(va.values) != 2 || &next[0][0] != &va.values[1][0] {
		t.Fatalf("the value after one that did not fit is not at the start of a new chunk (%d chunks)", len(va.values))
	}
	// A value larger than a chunk.
	huge := encodeAll(t, &va, valueOf('d', 2*arenaChunkSize))
	if len(huge[0]) != 2*arenaChunkSize {
		t.Fatalf("a value of %d bytes came back with %d", 2*arenaChunkSize, len(huge[0]))
	}
	// Exactly filling a chunk moves on to the next without a buffer of
	// its own.
	va.recycle()
	exact := encodeAll(t, &va, valueOf('e', arenaChunkSize), valueOf('f', 1))
	if &exact[0][0] != &va.values[0][0] || &exact[1][0] != &va.values[1][0] {
		t.Error("a value that fills a chunk exactly was not written in it, or the next not in the next chunk")
	}
	if first[0][0] != 'e' {
		t.Error("recycle with nothing pending did not reuse the first chunk")
	}
}

func TestSendArenaValuesRecycle(t *testing.T) {
	var va sendArena
	encodeAll(t, &va, valueOf('a', arenaChunkSize), valueOf('b', arenaChunkSize), valueOf('c', 1))
	if len(va.values) != 3 {
		t.Fatalf("%d chunks, want 3", len(va.values))
	}
	chunk0 := &va.values[0][0]

	// Nothing pending: the round starts over at the first chunk, and
	// keeps the chunks the round reached.
	va.recycle()
	if len(va.values) != 3 || va.valueChunk != 0 || va.valueOff != 0 {
		t.Fatalf("after recycle: %d chunks, at %d/%d; want 3 at 0/0", len(va.values), va.valueChunk, va.valueOff)
	}
	again := encodeAll(t, &va, valueOf('d', 8))
	if &again[0][0] != chunk0 {
		t.Error("recycle with nothing pending did not start over at the first chunk")
	}
	// Rounds that reach only the first chunk let the others go, one a
	// round.
	va.recycle()
	if len(va.values) != 2 {
		t.Errorf("after a round of one chunk: %d chunks kept, want 2", len(va.values))
	}
	encodeAll(t, &va, valueOf('d', 8))
	va.recycle()
	if len(va.values) != 1 {
		t.Errorf("after two rounds of one chunk: %d chunks kept, want 1", len(va.values))
	}
	va.recycle() // a round of nothing keeps the chunk the next will take
	if len(va.values) != 1 {
		t.Errorf("after a round of nothing: %d chunks kept, want 1", len(va.values))
	}

	// A record pending: its value is never written again.
	held := encodeAll(t, &va, valueOf('e', 8))
	va.record()
	va.recycle()
	encodeAll(t, &va, valueOf('f', arenaChunkSize), valueOf('g', 8))
	if !bytes.Equal(held[0], valueOf('e', 8)) {
		t.Errorf("a pending record's value was overwritten: %q", held[0])
	}
	// Once its promise is called, the arena reuses its chunks again.
	va.done()
	va.recycle()
	reused := encodeAll(t, &va, valueOf('h', 8))
	if &reused[0][0] == &held[0][0] {
		t.Error("the chunks let go while a record was pending came back")
	}
	if len(va.values) != 2 {
		t.Errorf("%d chunks, want the 2 of the last round", len(va.values))
	}
}

func TestSendArenaRecords(t *testing.T) {
	var va sendArena
	var got []*kgo.Record
	for i := range arenaRecords + 1 {
		r := va.record()
		if r.Topic != "" || r.Value != nil {
			t.Fatalf("record %d is not zero: %+v", i, r)
		}
		r.Topic, r.Value = "t", []byte{byte(i)}
		got = append(got, r)
	}
	if len(va.records) != 2 || va.pending.Load() != arenaRecords+1 {
		t.Fatalf("%d chunks, %d pending; want 2 chunks, %d pending", len(va.records), va.pending.Load(), arenaRecords+1)
	}
	if got[0] == got[1] || got[arenaRecords] != &va.records[1][0] {
		t.Fatal("records are not one after another in their chunks")
	}

	// Pending records are left to the client, untouched.
	va.recycle()
	if len(va.records) != 0 || got[5].Topic != "t" {
		t.Fatalf("recycle with records pending kept %d chunks, or changed a record (%+v)", len(va.records), got[5])
	}
	for range arenaRecords + 1 {
		va.done()
	}
	r := va.record()
	if r == got[0] {
		t.Fatal("a record let go while pending came back")
	}
	r.Topic = "u"
	va.done()

	// Nothing pending: the same records again, zeroed.
	va.recycle()
	if again := va.record(); again != r || again.Topic != "" {
		t.Fatalf("after recycle: record %p (%+v), want %p zeroed", again, again, r)
	}
}

func TestSendArenaValuesError(t *testing.T) {
	var va sendArena
	bad := errors.New("bad value")
	if _, err := va.encode(func([]byte, any) ([]byte, error) { return nil, bad }, nil); !errors.Is(err, bad) {
		t.Fatalf("error %v, want %v", err, bad)
	}
	got := encodeAll(t, &va, valueOf('a', 3))
	if &got[0][0] != &va.values[0][0] {
		t.Error("a failed encoding took room in the chunk")
	}
}

func TestFetchPool(t *testing.T) {
	var p fetchPool
	for _, n := range []int{0, 1, 64, 65, 1000} {
		if s := p.GetRecords(n); len(s) != 0 || cap(s) < max(n, minFetchSlice) || cap(s)&(cap(s)-1) != 0 {
			t.Errorf("GetRecords(%d): length %d, capacity %d; want 0 and a power of two of %d or more", n, len(s), cap(s), max(n, minFetchSlice))
		}
	}
	small, big := p.GetRecords(10), p.GetRecords(500)
	p.PutRecords(small)
	p.PutRecords(big)
	// The slice taken back is lent again, the smaller one to a batch it
	// cannot hold only when nothing else is free.
	if s := p.GetRecords(300); &s[:1][0] != &big[:1][0] {
		t.Error("a slice taken back was not lent again")
	}
	if s := p.GetRecords(300); &s[:1][0] == &small[:1][0] {
		t.Error("a slice too small for the batch was lent")
	}
	if s := p.GetRecords(5); &s[:1][0] != &small[:1][0] {
		t.Error("the small slice taken back was not lent again")
	}
	for range maxFetchSlices + 10 {
		p.PutRecords(make([]kgo.Record, 0, 1))
	}
	if len(p.free) != maxFetchSlices {
		t.Errorf("the pool keeps %d slices, want %d at most", len(p.free), maxFetchSlices)
	}
}
