package kafkabench

import (
	"sync"
	"sync/atomic"
)

// maxErrorSamples is how many distinct error messages a run keeps.
const maxErrorSamples = 10

// ErrorCount is one distinct error message and how often it occurred.
type ErrorCount struct {
	Error string `json:"error"`
	Count int64  `json:"count"`
}

// errorLog counts errors and keeps the first maxErrorSamples distinct
// messages with their counts; messages beyond those are counted in total
// only. Safe for concurrent use.
type errorLog struct {
	total atomic.Int64
	mu    struct {
		sync.Mutex
		samples []ErrorCount
	}
}

func (l *errorLog) add(err error) {
	l.total.Add(1)
	msg := err.Error()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.mu.samples {
		if l.mu.samples[i].Error == msg {
			l.mu.samples[i].Count++
			return
		}
	}
	if len(l.mu.samples) < maxErrorSamples {
		l.mu.samples = append(l.mu.samples, ErrorCount{Error: msg, Count: 1})
	}
}

// samples returns a copy of the kept messages.
func (l *errorLog) samples() []ErrorCount {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ErrorCount(nil), l.mu.samples...)
}
