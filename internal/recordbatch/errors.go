package recordbatch

import "errors"

// Errors returned by this package, always wrapped with context; test for
// them with errors.Is.
var (
	// ErrCorrupt reports a batch that is not well formed: truncated, a
	// length field that disagrees with the bytes, a CRC mismatch,
	// inconsistent counts or offsets, an unknown codec, or records that do
	// not decode. Kafka answers CORRUPT_MESSAGE.
	ErrCorrupt = errors.New("recordbatch: corrupt batch")

	// ErrMagic reports a batch whose magic byte is not 2, that is a
	// message set in an older format, which Weir does not store.
	ErrMagic = errors.New("recordbatch: unsupported magic")

	// ErrTooLarge reports a records section whose decompressed size is over
	// the caller's limit, or a batch too large to encode.
	ErrTooLarge = errors.New("recordbatch: decompressed records over limit")

	// ErrEmpty reports a batch that holds no records where one is needed.
	// Compaction can leave such batches behind.
	ErrEmpty = errors.New("recordbatch: batch holds no records")
)
