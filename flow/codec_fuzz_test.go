package flow

import (
	"testing"
	"time"
)

// FuzzCodecs feeds arbitrary bytes, as a topic may hold them, to flow's
// decoders: they return errors, never panic, and what decodes encodes
// back to the same bytes where the format is canonical.
func FuzzCodecs(f *testing.F) {
	w, _ := WindowedCodec(String()).Encode(Windowed[string]{Key: "k", Window: Window{Start: time.UnixMilli(0), End: time.UnixMilli(10)}})
	buffer := encodeBuffer([]bufferEntry{{matched: true, value: []byte("v")}, {value: nil}})
	sub := encodeSubscription(subscription{hash: 1, leftKey: []byte("k")})
	resp := encodeResponse(fkResponse{hash: 2, found: true, right: []byte("v")})
	end := endMarker{run: 7, from: taskID{sub: 1, partition: 3}}.encode()
	for _, seed := range [][]byte{nil, {}, {0}, {1, 'x'}, {2}, w, []byte(`{"a":1}`), make([]byte, 8), buffer, sub, resp, end} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, err := Int64().Decode(b); err == nil {
			if again, _ := Int64().Encode(v); string(again) != string(b) {
				t.Fatalf("int64 %x re-encodes as %x", b, again)
			}
		}
		_, _ = Float64().Decode(b)
		_, _ = JSON[map[string]int]().Decode(b)
		if k, err := WindowedCodec(String()).Decode(b); err == nil {
			if again, _ := WindowedCodec(String()).Encode(k); string(again) != string(b) {
				t.Fatalf("windowed key %x re-encodes as %x", b, again)
			}
		}
		_, _ = opCodec[int64]{Int64()}.Decode(b)
		_, _ = WindowedCodec(Int64()).Decode(b)
		// The encodings of internal topics and stores are canonical.
		if e, err := decodeBuffer(b); err == nil {
			if again := encodeBuffer(e); string(again) != string(b) {
				t.Fatalf("buffer %x re-encodes as %x", b, again)
			}
		}
		if s, err := decodeSubscription(b); err == nil {
			if again := encodeSubscription(s); string(again) != string(b) {
				t.Fatalf("subscription %x re-encodes as %x", b, again)
			}
		}
		if r, err := decodeResponse(b); err == nil {
			if again := encodeResponse(r); string(again) != string(b) {
				t.Fatalf("response %x re-encodes as %x", b, again)
			}
		}
		if m, err := decodeEndMarker(b); err == nil {
			if again := m.encode(); string(again) != string(b) {
				t.Fatalf("end marker %x re-encodes as %x", b, again)
			}
		}
	})
}
