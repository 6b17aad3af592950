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

// An Appender is a Codec that can also encode a value by appending its
// bytes to a buffer. Where flow writes records to topics (To and
// repartition topics), it encodes values with AppendEncode one after
// another into large buffers, which it reuses once the broker has
// acknowledged every record written from them, so that writing a record
// does not allocate its bytes. AppendEncode must append
// exactly the bytes Encode would return, and keep no reference to dst.
// String, Int64 and Float64 are Appenders; so is a CodecFuncs whose
// AppendFunc is set.
type Appender[T any] interface {
	AppendEncode(dst []byte, v T) ([]byte, error)
}

// CodecFuncs makes a Codec of two functions, and an Appender when
// AppendFunc is set.
type CodecFuncs[T any] struct {
	EncodeFunc func(T) ([]byte, error)
	DecodeFunc func([]byte) (T, error)
	// AppendFunc, optional, appends the encoding of a value to a buffer
	// (see Appender).
	AppendFunc func(dst []byte, v T) ([]byte, error)
}

// Encode calls EncodeFunc.
func (c CodecFuncs[T]) Encode(v T) ([]byte, error) { return c.EncodeFunc(v) }

// Decode calls DecodeFunc.
func (c CodecFuncs[T]) Decode(b []byte) (T, error) { return c.DecodeFunc(b) }

// appendEncoder returns c's way of encoding a value by appending it to a
// buffer (Appender, CodecFuncs.AppendFunc), or nil if it has none.
func appendEncoder[T any](c Codec[T]) func(dst []byte, v T) ([]byte, error) {
	switch c := c.(type) {
	case CodecFuncs[T]:
		return c.AppendFunc
	case *CodecFuncs[T]:
		if c != nil {
			return c.AppendFunc
		}
	case Appender[T]:
		return c.AppendEncode
	}
	return nil
}

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
func (stringCodec) AppendEncode(dst []byte, v string) ([]byte, error) {
	return append(dst, v...), nil
}

// Int64 is the codec of 64-bit integers as 8 big-endian bytes (Kafka's
// LongSerializer).
func Int64() Codec[int64] { return int64Codec{} }

type int64Codec struct{}

func (int64Codec) Encode(v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(nil, uint64(v)), nil
}
func (int64Codec) AppendEncode(dst []byte, v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, uint64(v)), nil
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
func (float64Codec) AppendEncode(dst []byte, v float64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(v)), nil
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
