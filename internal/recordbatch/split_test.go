package recordbatch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestSplit(t *testing.T) {
	a := mustBuild(t, testHeader(None, 1), sequentialRecords(1))
	b := mustBuild(t, testHeader(Gzip, 3), sequentialRecords(3))
	c := mustBuild(t, testHeader(Zstd, 0), nil)
	concat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	withLength := func(batch []byte, length int32) []byte {
		batch = bytes.Clone(batch)
		binary.BigEndian.PutUint32(batch[lengthOffset:], uint32(length))
		return batch
	}
	oldMessage := bytes.Clone(a[:40])
	oldMessage[magicOffset] = 1

	tests := []struct {
		name    string
		input   []byte
		want    [][]byte
		wantErr error
	}{
		{"empty", nil, nil, nil},
		{"one batch", a, [][]byte{a}, nil},
		{"three batches", concat(a, b, c), [][]byte{a, b, c}, nil},
		{"trailing bytes", concat(a, []byte{0, 0, 0}), nil, ErrCorrupt},
		{"trailing partial header", concat(a, b[:HeaderSize-1]), nil, ErrCorrupt},
		{"truncated last batch", concat(a, b[:len(b)-1]), nil, ErrCorrupt},
		{"length field below a header", concat(a, withLength(b, minLength-1)), nil, ErrCorrupt},
		{"negative length field", withLength(a, -5), nil, ErrCorrupt},
		{"length field past the end", withLength(a, 1<<30), nil, ErrCorrupt},
		{"older message format", concat(a, oldMessage), nil, ErrMagic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.input)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Split: %v, want %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Split gave %d batches, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Errorf("batch %d differs", i)
				}
				if cap(got[i]) != len(got[i]) {
					t.Errorf("batch %d: capacity %d runs past its length %d", i, cap(got[i]), len(got[i]))
				}
			}
		})
	}
}

// TestSplitDoesNotCopy checks that the batches are views of the input.
func TestSplitDoesNotCopy(t *testing.T) {
	a := mustBuild(t, testHeader(None, 1), sequentialRecords(1))
	input := bytes.Repeat(a, 2)
	got, err := Split(input)
	if err != nil {
		t.Fatal(err)
	}
	if &got[1][0] != &input[len(a)] {
		t.Error("second batch is a copy")
	}
}
