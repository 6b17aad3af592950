package flow

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// appendsLikeEncode checks that c's append encoding of v, after a prefix,
// is the prefix and then Encode's bytes.
func appendsLikeEncode[T any](t *testing.T, name string, c Codec[T], v T) {
	t.Helper()
	appendTo := appendEncoder(c)
	if appendTo == nil {
		t.Fatalf("%s: no append encoding", name)
	}
	want, err := c.Encode(v)
	if err != nil {
		t.Fatalf("%s: encode: %v", name, err)
	}
	prefix := []byte("prefix")
	got, err := appendTo(bytes.Clone(prefix), v)
	if err != nil {
		t.Fatalf("%s: append: %v", name, err)
	}
	if !bytes.Equal(got, append(prefix, want...)) {
		t.Errorf("%s: appended %x, want the prefix and %x", name, got, want)
	}
}

func TestAppendEncoders(t *testing.T) {
	appendsLikeEncode(t, "string", String(), "héllo")
	appendsLikeEncode(t, "int64", Int64(), math.MinInt64+3)
	appendsLikeEncode(t, "float64", Float64(), -1.5)
	funcs := CodecFuncs[string]{
		EncodeFunc: func(s string) ([]byte, error) { return []byte("<" + s + ">"), nil },
		DecodeFunc: func(b []byte) (string, error) { return string(b), nil },
		AppendFunc: func(dst []byte, s string) ([]byte, error) { return append(append(append(dst, '<'), s...), '>'), nil },
	}
	appendsLikeEncode(t, "CodecFuncs", Codec[string](funcs), "x")
	appendsLikeEncode(t, "*CodecFuncs", Codec[string](&funcs), "y")

	// Without AppendFunc, or an Appender, a codec is encoded with Encode.
	for name, c := range map[string]Codec[string]{
		"CodecFuncs without AppendFunc": CodecFuncs[string]{EncodeFunc: funcs.EncodeFunc, DecodeFunc: funcs.DecodeFunc},
		"nil *CodecFuncs":               (*CodecFuncs[string])(nil),
	} {
		if appendEncoder(c) != nil {
			t.Errorf("%s: has an append encoding", name)
		}
	}
	if appendEncoder(Bytes()) != nil || appendEncoder(JSON[int]()) != nil {
		t.Error("Bytes or JSON has an append encoding: Bytes passes values through, JSON has none")
	}

	// A sink's encoding errors name the topic.
	failing := CodecFuncs[string]{AppendFunc: func([]byte, string) ([]byte, error) { return nil, errBoom }}
	if _, err := valueAppender(Codec[string](failing), nil, "encode value for out")(nil, "v"); !errors.Is(err, errBoom) || err.Error() != "encode value for out: boom" {
		t.Errorf("error %v, want boom wrapped with the topic", err)
	}
}

var errBoom = errors.New("boom")
