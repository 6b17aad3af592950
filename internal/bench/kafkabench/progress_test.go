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

// The progress line's p99 is of the last interval: a slow interval shows,
// and the next one does not carry it, while the run's histogram keeps all.
func TestLatencyWindows(t *testing.T) {
	a, b := newRecorder(), newRecorder()
	for range 100 {
		a.record(time.Millisecond)
		b.record(100 * time.Millisecond)
	}
	rs := []*recorder{a, b}
	if got := summarize(takeWindows(rs)); got.Count != 200 || got.P99 < 99*time.Millisecond {
		t.Errorf("first window %+v, want 200 latencies with p99 about 100 ms", got)
	}
	a.record(2 * time.Millisecond)
	if got := summarize(takeWindows(rs)); got.Count != 1 || got.Max != 2*time.Millisecond {
		t.Errorf("second window %+v, want only the 2 ms latency", got)
	}
	if got := summarize(takeWindows(rs)); got.Count != 0 {
		t.Errorf("empty window %+v", got)
	}
	if got := summarize(merged(rs)); got.Count != 201 || got.Max < 99*time.Millisecond {
		t.Errorf("whole run %+v, want 201 latencies up to 100 ms", got)
	}
}
