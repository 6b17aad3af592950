package recordbatch

import "fmt"

// Split splits b, a sequence of concatenated batches as a produce request
// carries them, into one slice per batch, without copying: each slice is a
// sub-slice of b whose capacity ends with the batch. Split only frames the
// batches by their length fields; check each with Validate. It returns
// ErrMagic for a message in an older format, and ErrCorrupt for a length
// field too small for a header, a truncated batch or trailing bytes. An empty
// b gives no batches.
func Split(b []byte) ([][]byte, error) {
	var batches [][]byte
	for pos := 0; pos < len(b); {
		rest := b[pos:]
		h, err := ReadHeader(rest)
		if err != nil {
			return nil, fmt.Errorf("split: batch %d at byte %d: %w", len(batches), pos, err)
		}
		if h.Length < minLength || h.Size() > int64(len(rest)) {
			return nil, fmt.Errorf("split: batch %d at byte %d: length field %d with %d bytes left: %w",
				len(batches), pos, h.Length, len(rest), ErrCorrupt)
		}
		size := int(h.Size())
		batches = append(batches, rest[:size:size])
		pos += size
	}
	return batches, nil
}
