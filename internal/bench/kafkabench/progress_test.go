package kafkabench

import (
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	var out syncBuffer
	var prev counter
	total := int64(0)
	stop := startProgress(&out, time.Millisecond, "produce", time.Now(), func(secs float64) string {
		total += 1000
		return rateSince(&prev, total, total*100, secs)
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "\n") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	stop()
	line, _, _ := strings.Cut(out.String(), "\n")
	if !strings.HasPrefix(line, "produce ") || !strings.Contains(line, "records/s") || !strings.Contains(line, "MB/s") {
		t.Errorf("progress line %q", line)
	}
	if startProgress(nil, time.Millisecond, "x", time.Now(), nil) == nil {
		t.Error("no stop function without a writer")
	}
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", -12345: "-12,345"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
}
