package recordbatch

import "fmt"

// Codec is the compression codec of a batch, held in the low three bits of
// its attributes.
type Codec int8

// Codec values, as in the attributes.
const (
	None   Codec = 0
	Gzip   Codec = 1
	Snappy Codec = 2
	LZ4    Codec = 3
	Zstd   Codec = 4
)

// String returns the codec's name as Kafka's compression.type spells it.
func (c Codec) String() string {
	switch c {
	case None:
		return "none"
	case Gzip:
		return "gzip"
	case Snappy:
		return "snappy"
	case LZ4:
		return "lz4"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// known reports whether c is one of the five codecs Kafka defines.
func (c Codec) known() bool {
	return c >= None && c <= Zstd
}
