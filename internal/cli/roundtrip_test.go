package cli

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/weir-io/weir/internal/broker"
)

// line is one input line of `weir produce` and the record it must become.
type line struct {
	text      string
	key       []byte // nil: no key
	value     []byte
	noNewline bool // the last line of the input may lack its newline
}

// roundTripLines cover what a line can hold: UTF-8, bytes that are not
// UTF-8, empty keys and values, the separator inside the value, tabs and
// carriage returns (kept), lines without the separator (no key).
var roundTripLines = []line{
	{text: "k1::hello", key: []byte("k1"), value: []byte("hello")},
	{text: "clé::naïve ✓ 日本", key: []byte("clé"), value: []byte("naïve ✓ 日本")},
	{text: "\xff\x00k::\xfe\xfd\x80binary", key: []byte("\xff\x00k"), value: []byte("\xfe\xfd\x80binary")},
	{text: "::empty key", key: []byte{}, value: []byte("empty key")},
	{text: "empty value::", key: []byte("empty value"), value: []byte{}},
	{text: "no separator", value: []byte("no separator")},
	{text: "k2::a::b", key: []byte("k2"), value: []byte("a::b")},
	{text: "tab\tkey::carriage\r", key: []byte("tab\tkey"), value: []byte("carriage\r")},
	{text: "", value: []byte{}},
	{text: "last::no newline", key: []byte("last"), value: []byte("no newline"), noNewline: true},
}

// roundTripHeaders are given to every record.
var roundTripHeaders = []struct{ flag, key, value string }{
	{"source=cli", "source", "cli"},
	{"eq=a=b", "eq", "a=b"},
	{"empty=", "empty", ""},
	{"utf=✓", "utf", "✓"},
}

func roundTripInput() string {
	var b strings.Builder
	for _, l := range roundTripLines {
		b.WriteString(l.text)
		if !l.noNewline {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// TestProduceConsumeRoundTrip writes the lines with each compression codec
// (and each acks level) and reads them back with --output json and with
// --format, checking every byte of keys, values and headers.
func TestProduceConsumeRoundTrip(t *testing.T) {
	addr := startBroker(t, broker.Config{})
	codecs := []struct{ compression, acks string }{
		{"none", "all"}, {"gzip", "1"}, {"snappy", "0"}, {"lz4", "all"}, {"zstd", "1"},
	}
	for _, c := range codecs {
		t.Run(c.compression, func(t *testing.T) {
			topic := "rt-" + c.compression
			mustRun(t, "", "topic", "create", topic, "--partitions", "2", "-b", addr)
			args := []string{"produce", topic, "-b", addr, "--key-separator", "::", "--partition", "1",
				"--compression", c.compression, "--acks", c.acks}
			for _, h := range roundTripHeaders {
				args = append(args, "--header", h.flag)
			}
			out := mustRun(t, roundTripInput(), args...)
			wantBytes := 0
			for _, l := range roundTripLines {
				wantBytes += len(l.key) + len(l.value)
			}
			if want := fmt.Sprintf("produced %d records (%d bytes) to topic %s\n", len(roundTripLines), wantBytes, topic); out != want {
				t.Fatalf("summary %q, want %q", out, want)
			}

			// --follow --count waits for the records, which acks=0 does
			// not guarantee are written when produce returns.
			n := strconv.Itoa(len(roundTripLines))
			records := decodeRecords(t, mustRun(t, "", "consume", topic, "-b", addr, "--output", "json", "--follow", "--count", n))
			checkRecords(t, topic, records)

			format := mustRun(t, "", "consume", topic, "-b", addr, "--format", `%T|%p|%o|%t|%k|%v|%h\n`, "--follow", "--count", n)
			var want strings.Builder
			for i, l := range roundTripLines {
				fmt.Fprintf(&want, "%s|1|%d|%d|%s|%s|source=cli,eq=a=b,empty=,utf=✓\n", topic, i, records[i].Timestamp, l.key, l.value)
			}
			if format != want.String() {
				t.Errorf("--format output:\n%q\nwant:\n%q", format, want.String())
			}

			// Nothing went to partition 0.
			if out := mustRun(t, "", "consume", topic, "-b", addr, "--partition", "0"); out != "" {
				t.Errorf("partition 0 has records: %q", out)
			}
		})
	}
}

// checkRecords compares consumed records with roundTripLines, byte by
// byte.
func checkRecords(t *testing.T, topic string, records []jsonRecord) {
	t.Helper()
	if len(records) != len(roundTripLines) {
		t.Fatalf("%d records, want %d", len(records), len(roundTripLines))
	}
	for i, r := range records {
		l := roundTripLines[i]
		if r.Topic != topic || r.Partition != 1 || r.Offset != int64(i) || r.Timestamp <= 0 {
			t.Errorf("record %d: topic %q partition %d offset %d timestamp %d", i, r.Topic, r.Partition, r.Offset, r.Timestamp)
		}
		if wantEncoding(l.key) != r.KeyEncoding || wantEncoding(l.value) != r.ValueEncoding {
			t.Errorf("record %d: encodings %q and %q", i, r.KeyEncoding, r.ValueEncoding)
		}
		if key := decodeField(t, r.Key, r.KeyEncoding); !sameBytes(key, l.key) {
			t.Errorf("record %d: key %q, want %q", i, key, l.key)
		}
		if value := decodeField(t, r.Value, r.ValueEncoding); !sameBytes(value, l.value) {
			t.Errorf("record %d: value %q, want %q", i, value, l.value)
		}
		if len(r.Headers) != len(roundTripHeaders) {
			t.Fatalf("record %d: headers %+v", i, r.Headers)
		}
		for j, h := range r.Headers {
			want := roundTripHeaders[j]
			if h.Key != want.key || h.KeyEncoding != "" || h.Value == nil || *h.Value != want.value || h.ValueEncoding != "" {
				t.Errorf("record %d header %d: %+v, want %s=%s", i, j, h, want.key, want.value)
			}
		}
	}
}

// wantEncoding is the encoding marker bytes must have in JSON.
func wantEncoding(b []byte) string {
	if utf8.Valid(b) {
		return ""
	}
	return base64Encoding
}

// decodeRecords decodes the lines of `weir consume --output json`.
func decodeRecords(t *testing.T, out string) []jsonRecord {
	t.Helper()
	var records []jsonRecord
	for _, l := range strings.SplitAfter(out, "\n") {
		if l == "" {
			continue
		}
		var r jsonRecord
		decodeJSON(t, l, &r)
		records = append(records, r)
	}
	return records
}

// decodeField turns a JSON key or value back into bytes.
func decodeField(t *testing.T, s *string, encoding string) []byte {
	t.Helper()
	switch {
	case s == nil:
		return nil
	case encoding == "":
		return []byte(*s)
	case encoding == base64Encoding:
		b, err := base64.StdEncoding.DecodeString(*s)
		if err != nil {
			t.Fatalf("bad base64 %q: %v", *s, err)
		}
		return b
	}
	t.Fatalf("unknown encoding %q", encoding)
	return nil
}

// sameBytes is bytes.Equal that also tells nil (null) from empty.
func sameBytes(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}
