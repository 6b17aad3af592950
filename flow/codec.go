package flow

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// A Codec turns values of T into the bytes of a record's key or value and
// back. Bytes, String, Int64, Float64 and JSON cover the common cases;
// other formats (Avro, Protobuf, a schema registry's framing) implement
// the interface.
type Codec[T any] interface {
	Encode(v T) ([]byte, error)
	Decode(b []byte) (T, error)
}

// CodecFuncs makes a Codec of two functions.
type CodecFuncs[T any] struct {
	EncodeFunc func(T) ([]byte, error)
	DecodeFunc func([]byte) (T, error)
}

// Encode calls EncodeFunc.
func (c CodecFuncs[T]) Encode(v T) ([]byte, error) { return c.EncodeFunc(v) }

// Decode calls DecodeFunc.
func (c CodecFuncs[T]) Decode(b []byte) (T, error) { return c.DecodeFunc(b) }

// Bytes is the codec of raw bytes: values pass through as they are.
func Bytes() Codec[[]byte] { return bytesCodec{} }

type bytesCodec struct{}

func (bytesCodec) Encode(v []byte) ([]byte, error) { return v, nil }
func (bytesCodec) Decode(b []byte) ([]byte, error) { return b, nil }

// String is the codec of UTF-8 text (not checked).
func String() Codec[string] { return stringCodec{} }

type stringCodec struct{}

func (stringCodec) Encode(v string) ([]byte, error) { return []byte(v), nil }
func (stringCodec) Decode(b []byte) (string, error) { return string(b), nil }

// Int64 is the codec of 64-bit integers as 8 big-endian bytes (Kafka's
// LongSerializer).
func Int64() Codec[int64] { return int64Codec{} }

type int64Codec struct{}

func (int64Codec) Encode(v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(nil, uint64(v)), nil
}
func (int64Codec) Decode(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("flow: an int64 is 8 bytes, got %d", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// Float64 is the codec of 64-bit floats as 8 big-endian bytes of their
// IEEE 754 bits (Kafka's DoubleSerializer).
func Float64() Codec[float64] { return float64Codec{} }

type float64Codec struct{}

func (float64Codec) Encode(v float64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(nil, math.Float64bits(v)), nil
}
func (float64Codec) Decode(b []byte) (float64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("flow: a float64 is 8 bytes, got %d", len(b))
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}

// JSON is the codec of values as JSON (encoding/json).
func JSON[T any]() Codec[T] { return jsonCodec[T]{} }

type jsonCodec[T any] struct{}

func (jsonCodec[T]) Encode(v T) ([]byte, error) { return json.Marshal(v) }
func (jsonCodec[T]) Decode(b []byte) (T, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}

// errNilCodec: an operator that needs a codec was given none.
var errNilCodec = errors.New("flow: a codec is needed here")
