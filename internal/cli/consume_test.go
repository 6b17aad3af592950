package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/internal/broker"
)

// TestConsumeFrom reads a partition of records with known timestamps
// (1000, 2000, ... ms) from each kind of --from, with and without --count.
func TestConsumeFrom(t *testing.T) {
	addr := startBroker(t, broker.Config{})
	mustRun(t, "", "topic", "create", "timed", "--partitions", "2", "-b", addr)
	var records []*kgo.Record
	for i := range 5 {
		records = append(records, &kgo.Record{
			Topic:     "timed",
			Partition: 0,
			Value:     []byte{'a' + byte(i)},
			Timestamp: time.UnixMilli(int64(i+1) * 1000),
		})
	}
	produceRecords(t, addr, records...)
	// Partition 0 holds a (offset 0, 1000 ms) to e (offset 4, 5000 ms);
	// partition 1 is empty.
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"earliest", []string{"--from", "earliest"}, "a b c d e"},
		{"default is earliest", nil, "a b c d e"},
		{"latest", []string{"--from", "latest"}, ""},
		{"offset", []string{"--from", "2"}, "c d e"},
		{"offset past the end", []string{"--from", "100"}, ""},
		{"last two", []string{"--from", "-2"}, "d e"},
		{"last hundred", []string{"--from=-100"}, "a b c d e"},
		{"unix ms exact", []string{"--from", "@3000"}, "c d e"},
		{"unix ms between", []string{"--from", "@2500"}, "c d e"},
		{"unix ms zero", []string{"--from", "@0"}, "a b c d e"},
		{"unix ms after all", []string{"--from", "@9000"}, ""},
		{"RFC 3339", []string{"--from", "1970-01-01T00:00:04Z"}, "d e"},
		{"RFC 3339 with @ and offset", []string{"--from", "@1970-01-01T01:00:02+01:00"}, "b c d e"},
		{"count", []string{"--count", "2"}, "a b"},
		{"count past the end", []string{"--count", "9"}, "a b c d e"},
		{"offset and count", []string{"--from", "1", "--count", "3"}, "b c d"},
		{"time and count", []string{"--from", "@2000", "--count", "1"}, "b"},
		{"partition", []string{"--partition", "0", "--from", "3"}, "d e"},
		{"empty partition", []string{"--partition", "1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mustRun(t, "", append([]string{"consume", "timed", "-b", addr, "--format", `%v %o %t\n`}, tt.args...)...)
			var values []string
			for l := range strings.Lines(out) {
				f := strings.Fields(l)
				if len(f) != 3 || f[1] != string(rune('0'+f[0][0]-'a')) || f[2] != string(rune('1'+f[0][0]-'a'))+"000" {
					t.Fatalf("line %q: want value, offset, timestamp", l)
				}
				values = append(values, f[0])
			}
			if got := strings.Join(values, " "); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestConsumeFollow checks that --follow keeps reading past the end
// offsets seen at the start, and stops without an error when its context
// is canceled (Ctrl-C).
func TestConsumeFollow(t *testing.T) {
	addr := startBroker(t, broker.Config{})
	mustRun(t, "one\ntwo\n", "produce", "tail", "-b", addr)

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	out := newWatchedBuffer()
	done := make(chan result, 1)
	go func() {
		done <- runContext(ctx, invocation{args: []string{"consume", "tail", "-b", addr, "--follow"}, stdout: out})
	}()
	out.waitFor(ctx, t, "the records written before", func(s string) bool { return s == "one\ntwo\n" })
	mustRun(t, "three\n", "produce", "tail", "-b", addr)
	out.waitFor(ctx, t, "the record written after", func(s string) bool { return s == "one\ntwo\nthree\n" })

	cancel()
	r := <-done
	if r.code != 0 {
		t.Fatalf("exit code %d after cancel; stderr: %s", r.code, r.stderr)
	}
	if got := out.String(); got != "one\ntwo\nthree\n" {
		t.Fatalf("output %q", got)
	}
}

// TestConsumeFollowCount checks that --follow with --count stops by itself
// once the count is reached, even when the records come after the start.
func TestConsumeFollowCount(t *testing.T) {
	addr := startBroker(t, broker.Config{})
	mustRun(t, "", "topic", "create", "later", "-b", addr)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	out := newWatchedBuffer()
	done := make(chan result, 1)
	go func() {
		done <- runContext(ctx, invocation{args: []string{"consume", "later", "-b", addr, "--from", "earliest", "--follow", "--count", "3"}, stdout: out})
	}()
	mustRun(t, "1\n2\n", "produce", "later", "-b", addr)
	out.waitFor(ctx, t, "two records", func(s string) bool { return s == "1\n2\n" })
	select {
	case r := <-done:
		t.Fatalf("returned after 2 of 3 records: %+v", r)
	default:
	}
	mustRun(t, "3\n4\n", "produce", "later", "-b", addr)
	r := <-done
	if r.code != 0 || out.String() != "1\n2\n3\n" {
		t.Fatalf("exit code %d, output %q, stderr %s", r.code, out.String(), r.stderr)
	}
}
