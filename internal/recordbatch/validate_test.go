package recordbatch

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestValidateRejects(t *testing.T) {
	valid := func(t *testing.T) []byte {
		return mustBuild(t, testHeader(None, 3), sequentialRecords(3))
	}
	// resum recomputes the CRC after a change, so that the check under test
	// is the one that fires, not the CRC.
	resum := func(b []byte) []byte { putCRC(b); return b }
	putInt32 := func(b []byte, at int, v int32) []byte {
		binary.BigEndian.PutUint32(b[at:], uint32(v))
		return b
	}
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   error
	}{
		{"empty", func(b []byte) []byte { return nil }, ErrCorrupt},
		{"shorter than a header", func(b []byte) []byte { return b[:HeaderSize-1] }, ErrCorrupt},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, ErrCorrupt},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, ErrCorrupt},
		{"length field too large", func(b []byte) []byte { return putInt32(b, lengthOffset, int32(len(b))) }, ErrCorrupt},
		{"length field below a header", func(b []byte) []byte { return putInt32(b, lengthOffset, minLength-1) }, ErrCorrupt},
		{"negative length field", func(b []byte) []byte { return putInt32(b, lengthOffset, -1) }, ErrCorrupt},
		{"magic 1", func(b []byte) []byte { b[magicOffset] = 1; return b }, ErrMagic},
		{"magic 0 message shorter than a v2 header", func(b []byte) []byte { b[magicOffset] = 0; return b[:30] }, ErrMagic},
		{"magic 3", func(b []byte) []byte { b[magicOffset] = 3; return b }, ErrMagic},
		{"crc field flipped", func(b []byte) []byte { b[crcOffset] ^= 1; return b }, ErrCorrupt},
		{"record byte flipped", func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }, ErrCorrupt},
		{"attributes flipped", func(b []byte) []byte { b[attributesOffset+1] ^= logAppendTimeFlag; return b }, ErrCorrupt},
		{"unknown codec", func(b []byte) []byte { b[attributesOffset+1] |= 5; return resum(b) }, ErrCorrupt},
		{"negative record count", func(b []byte) []byte { return resum(putInt32(b, 57, -1)) }, ErrCorrupt},
		{"negative last offset delta", func(b []byte) []byte { return resum(putInt32(b, 23, -1)) }, ErrCorrupt},
		{"last offset delta below record count", func(b []byte) []byte { return resum(putInt32(b, 23, 1)) }, ErrCorrupt},
		{"more records than bytes", func(b []byte) []byte {
			return resum(putInt32(putInt32(b, 57, 1000), 23, 999))
		}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.mutate(valid(t))
			if _, err := Validate(b); !errors.Is(err, tt.want) {
				t.Errorf("Validate: %v, want %v", err, tt.want)
			}
			if _, _, err := Records(b, 1<<20); !errors.Is(err, tt.want) {
				t.Errorf("Records: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	compacted := testHeader(Gzip, 0)
	compacted.LastOffsetDelta = 99 // every record removed, range kept
	tests := []struct {
		name  string
		batch []byte
	}{
		{"uncompressed", mustBuild(t, testHeader(None, 3), sequentialRecords(3))},
		{"empty after compaction", mustBuild(t, compacted, nil)},
		{"empty header-only batch", rawBatch(testHeader(Zstd, 0), nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Validate(tt.batch); err != nil {
				t.Errorf("Validate: %v", err)
			}
			if _, _, err := Records(tt.batch, 1<<20); err != nil {
				t.Errorf("Records: %v", err)
			}
		})
	}
}

func TestReadHeader(t *testing.T) {
	h := testHeader(LZ4, 3)
	h.Attributes |= transactionalFlag | controlFlag | logAppendTimeFlag | deleteHorizonSetFlag
	b := mustBuild(t, h, sequentialRecords(3))
	tests := []struct {
		name  string
		input []byte
	}{
		{"whole batch", b},
		{"header only", b[:HeaderSize]},
		{"followed by another batch", append(b[:len(b):len(b)], b...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadHeader(tt.input)
			if err != nil {
				t.Fatal(err)
			}
			if got.Size() != int64(len(b)) || got.NumRecords != 3 || got.BaseOffset != h.BaseOffset ||
				got.ProducerID != h.ProducerID || got.BaseSequence != h.BaseSequence {
				t.Errorf("ReadHeader = %+v for a batch of %d bytes built from %+v", got, len(b), h)
			}
			if got.Codec() != LZ4 || !got.Transactional() || !got.Control() || !got.LogAppendTime() || !got.DeleteHorizonSet() {
				t.Errorf("attributes %#x decoded as codec %s, transactional %t, control %t, log append time %t, delete horizon %t",
					got.Attributes, got.Codec(), got.Transactional(), got.Control(), got.LogAppendTime(), got.DeleteHorizonSet())
			}
			if got.LastOffset() != h.BaseOffset+2 {
				t.Errorf("LastOffset() = %d, want %d", got.LastOffset(), h.BaseOffset+2)
			}
		})
	}
}

func TestCodecString(t *testing.T) {
	tests := []struct {
		codec Codec
		want  string
	}{
		{None, "none"}, {Gzip, "gzip"}, {Snappy, "snappy"}, {LZ4, "lz4"}, {Zstd, "zstd"}, {Codec(6), "codec(6)"},
	}
	for _, tt := range tests {
		if got := tt.codec.String(); got != tt.want {
			t.Errorf("Codec(%d).String() = %q, want %q", int8(tt.codec), got, tt.want)
		}
	}
}
