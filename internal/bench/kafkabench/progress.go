package kafkabench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// counter is a running total the progress line reports as a rate over
// the last interval.
type counter struct {
	records, bytes int64
}

// startProgress writes a line to w every interval until the returned
// function is called: the workload's name, the seconds since start, and
// what line returns. line gets the seconds since the previous line; it
// runs on the progress goroutine only.
func startProgress(w io.Writer, interval time.Duration, name string, start time.Time, line func(interval float64) string) (stop func()) {
	if w == nil || interval <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		last := start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				fmt.Fprintf(w, "%s %5.0fs  %s\n", name, now.Sub(start).Seconds(), line(now.Sub(last).Seconds()))
				last = now
			}
		}
	}()
	return func() { close(done); <-finished }
}

// rateSince returns "N records/s, M MB/s" for what was added to c since
// prev over secs seconds, and updates prev.
func rateSince(prev *counter, records, bytes int64, secs float64) string {
	r := float64(records-prev.records) / secs
	b := float64(bytes-prev.bytes) / secs / 1e6
	prev.records, prev.bytes = records, bytes
	return fmt.Sprintf("%s records/s %7.1f MB/s", padLeft(thousands(r), 9), b)
}

func padLeft(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat(" ", n-len(s)) + s
}

// produceProgress is the progress line of the producers: rates over the
// last interval, p99 of the latencies of the last interval, errors so
// far.
func produceProgress(s *producerSet) func(float64) string {
	var prev counter
	return func(secs float64) string {
		records, bytes, errors := s.totals()
		return fmt.Sprintf("%s  p99 %s  errors %d", rateSince(&prev, records, bytes, secs),
			ms(summarize(takeWindows(s.recorders())).P99), errors)
	}
}

// consumeProgress is the progress line of the consumers; with latency,
// the end-to-end p99 of the last interval.
func consumeProgress(s *consumerSet, latency bool) func(float64) string {
	var prev counter
	return func(secs float64) string {
		records, bytes := s.totals()
		text := rateSince(&prev, records, bytes, secs)
		if latency {
			text += "  e2e p99 " + ms(summarize(takeWindows(s.recorders())).P99)
		}
		return text
	}
}
