package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRecordFormat(t *testing.T) {
	record := &kgo.Record{
		Topic:     "orders",
		Partition: 3,
		Offset:    42,
		Timestamp: time.UnixMilli(1700000000123),
		Key:       []byte("k"),
		Value:     []byte("v 100%"),
		Headers:   []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b", Value: nil}},
	}
	tests := []struct {
		format string
		want   string
	}{
		{`%v\n`, "v 100%\n"},
		{`%k=%v`, "k=v 100%"},
		{`%T/%p@%o %t`, "orders/3@42 1700000000123"},
		{`[%h]`, "[a=1,b=]"},
		{`%%k\t%k\r\\`, "%k\tk\r\\"},
		{`plain`, "plain"},
	}
	for _, tt := range tests {
		f, err := compileFormat(tt.format)
		if err != nil {
			t.Fatalf("compile %q: %v", tt.format, err)
		}
		if got := string(f.appendRecord(nil, record)); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.format, got, tt.want)
		}
	}

	null := &kgo.Record{Topic: "t"}
	f, _ := compileFormat(`<%k|%v|%h>`)
	if got := string(f.appendRecord(nil, null)); got != "<||>" {
		t.Errorf("null key and value: %q", got)
	}

	for _, bad := range []string{"", "%", `\`, "%x", `\x`, "abc%"} {
		if _, err := compileFormat(bad); err == nil || !strings.HasPrefix(err.Error(), "--format") {
			t.Errorf("compile %q: err %v, want a --format error", bad, err)
		}
	}
}

func TestJSONRecord(t *testing.T) {
	r := newJSONRecord(&kgo.Record{
		Topic: "t", Partition: 1, Offset: 2, Timestamp: time.UnixMilli(3),
		Key:     nil,
		Value:   []byte{0xff, 0x00},
		Headers: []kgo.RecordHeader{{Key: "\xfe", Value: []byte("ok")}, {Key: "n", Value: nil}},
	})
	if r.Key != nil || r.KeyEncoding != "" {
		t.Errorf("null key: %v %q", r.Key, r.KeyEncoding)
	}
	if r.Value == nil || *r.Value != "/wA=" || r.ValueEncoding != "base64" {
		t.Errorf("binary value: %v %q", r.Value, r.ValueEncoding)
	}
	if h := r.Headers[0]; h.Key != "/g==" || h.KeyEncoding != "base64" || *h.Value != "ok" || h.ValueEncoding != "" {
		t.Errorf("binary header key: %+v", h)
	}
	if h := r.Headers[1]; h.Value != nil {
		t.Errorf("null header value: %+v", h)
	}
}
