package kafkabench

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latency summarizes a latency histogram.
type Latency struct {
	// Count is the number of latencies recorded; the others are their
	// mean, percentiles and maximum (to the histogram's precision, three
	// significant digits of microseconds).
	Count int64         `json:"count"`
	Mean  time.Duration `json:"mean_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	P999  time.Duration `json:"p99_9_ns"`
	Max   time.Duration `json:"max_ns"`
}

// histogramMax is the largest latency recorded, in microseconds; larger
// ones are recorded as this.
const histogramMax = int64(10 * time.Minute / time.Microsecond)

// newHistogram records microseconds from 1 µs to 10 minutes with three
// significant digits.
func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, histogramMax, 3)
}

// recorder is a latency histogram one goroutine records into while
// another reads it for the progress line. Besides the whole run's
// histogram it keeps one of the latencies since the progress line last
// took it, so that the line shows the last interval, not an average that
// hides what just happened.
type recorder struct {
	mu struct {
		sync.Mutex
		hist   *hdrhistogram.Histogram // every latency
		window *hdrhistogram.Histogram // since the last takeWindow
	}
}

func newRecorder() *recorder {
	r := &recorder{}
	r.mu.hist = newHistogram()
	r.mu.window = newHistogram()
	return r
}

// record adds a latency.
func (r *recorder) record(d time.Duration) {
	v := min(max(d.Microseconds(), 1), histogramMax)
	r.mu.Lock()
	r.mu.hist.RecordValue(v) // in range: cannot fail
	r.mu.window.RecordValue(v)
	r.mu.Unlock()
}

// takeWindows returns one histogram holding what every recorder has
// recorded since the last call, and starts the recorders' next windows.
func takeWindows(rs []*recorder) *hdrhistogram.Histogram {
	h := newHistogram()
	for _, r := range rs {
		r.mu.Lock()
		h.Merge(r.mu.window)
		r.mu.window.Reset()
		r.mu.Unlock()
	}
	return h
}

// merged returns one histogram holding what every recorder has recorded
// so far.
func merged(rs []*recorder) *hdrhistogram.Histogram {
	h := newHistogram()
	for _, r := range rs {
		r.mu.Lock()
		h.Merge(r.mu.hist)
		r.mu.Unlock()
	}
	return h
}

// summarize returns the figures of h.
func summarize(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return Latency{
		Count: h.TotalCount(),
		Mean:  time.Duration(h.Mean() * float64(time.Microsecond)),
		P50:   us(h.ValueAtQuantile(50)),
		P90:   us(h.ValueAtQuantile(90)),
		P99:   us(h.ValueAtQuantile(99)),
		P999:  us(h.ValueAtQuantile(99.9)),
		Max:   us(h.Max()),
	}
}
