package kafkabench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Why a consumer set stops (the cause of its stop context).
var (
	errRecordsRead   = errors.New("records read")
	errBytesRead     = errors.New("bytes read")
	errDurationEnded = errors.New("duration elapsed")
	errDrainTimeout  = errors.New("drain timeout")
)

// consumerSet is the consumers of a run. Consumer i reads partitions[j]
// for every j with j mod len(consumers) == i, through its own kgo.Client,
// from given start offsets (no consumer group). A consumer ends when the
// set's stop context is done, or when it has read up to the end offsets
// of its partitions once the set knows them (setEnd).
type consumerSet struct {
	cfg       Config
	consumers []*consumer
	errs      errorLog

	// stop ends every consumer; its cause says why.
	stop       context.Context
	stopCancel context.CancelCauseFunc
	// end holds the end offsets to read up to, nil until known; wake is
	// cancelled when they become known, to interrupt the long polls of
	// consumers waiting for them.
	end        atomic.Pointer[map[int32]int64]
	wake       context.Context
	wakeCancel context.CancelFunc

	// records and bytes count over all consumers; the set stops once
	// either reaches its limit (when positive).
	records      atomic.Int64
	bytes        atomic.Int64
	limitRecords int64
	limitBytes   int64
	// measure is set in e2e: consumers record end-to-end latency.
	measure bool
	epoch   time.Time
}

type consumer struct {
	set    *consumerSet
	client *kgo.Client
	// next is the offset after the last record read, per partition;
	// owned by the consumer's goroutine.
	next map[int32]int64
	// foreign counts records without a stamp of this run (e2e).
	foreign atomic.Int64
	latency *recorder
	// last is when the consumer last read a record; read after it ends.
	last time.Time
}

// newConsumerSet creates the consumers' clients, reading from start.
func newConsumerSet(ctx context.Context, cfg Config, partitions []int32, start map[int32]int64, epoch time.Time, measure bool) (*consumerSet, error) {
	if cfg.Consumers > len(partitions) {
		return nil, fmt.Errorf("%d consumers for %d partitions: want at most one consumer a partition", cfg.Consumers, len(partitions))
	}
	s := &consumerSet{cfg: cfg, measure: measure, epoch: epoch}
	s.stop, s.stopCancel = context.WithCancelCause(ctx)
	s.wake, s.wakeCancel = context.WithCancel(s.stop)
	for i := range cfg.Consumers {
		mine := make(map[int32]int64)
		for j, p := range partitions {
			if j%cfg.Consumers == i {
				mine[p] = start[p]
			}
		}
		cl, err := kgo.NewClient(cfg.consumerOptions(mine)...)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("consumer client: %w", err)
		}
		s.consumers = append(s.consumers, &consumer{set: s, client: cl, next: mine, latency: newRecorder()})
	}
	return s, nil
}

// run starts the consumers and returns a function that waits for them to
// end.
func (s *consumerSet) run() (wait func()) {
	var wg sync.WaitGroup
	for _, c := range s.consumers {
		wg.Go(c.run)
	}
	return wg.Wait
}

// setEnd tells the consumers the offsets to read up to.
func (s *consumerSet) setEnd(end map[int32]int64) {
	s.end.Store(&end)
	s.wakeCancel()
}

// close closes the clients and releases the contexts.
func (s *consumerSet) close() {
	for _, c := range s.consumers {
		c.client.Close()
	}
	s.wakeCancel()
	s.stopCancel(context.Canceled)
}

// read adds what a poll read to the totals and stops the set when a limit
// is reached.
func (s *consumerSet) read(records, bytes int64) {
	r, b := s.records.Add(records), s.bytes.Add(bytes)
	switch {
	case s.limitRecords > 0 && r >= s.limitRecords:
		s.stopCancel(errRecordsRead)
	case s.limitBytes > 0 && b >= s.limitBytes:
		s.stopCancel(errBytesRead)
	}
}

// run is the consumer's goroutine.
func (c *consumer) run() {
	s := c.set
	for {
		ctx := s.stop
		end := s.end.Load()
		if end == nil {
			ctx = s.wake
		} else if c.reached(*end) {
			return
		}
		if s.stop.Err() != nil {
			return
		}
		c.consume(c.client.PollFetches(ctx))
	}
}

// consume counts the records of one poll and, in e2e, records their
// latency: the time the poll returned minus the record's stamp.
func (c *consumer) consume(fetches kgo.Fetches) {
	now := time.Now()
	since := now.Sub(c.set.epoch)
	fetches.EachError(func(_ string, _ int32, err error) {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, kgo.ErrClientClosed) {
			c.set.errs.add(err)
		}
	})
	var records, bytes int64
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		for _, r := range p.Records {
			records++
			bytes += int64(len(r.Key) + len(r.Value))
			if c.set.measure {
				stamp, ok := readStamp(r.Value)
				if !ok || stamp <= 0 || stamp > since {
					c.foreign.Add(1)
				} else {
					c.latency.record(since - stamp)
				}
			}
		}
		if n := len(p.Records); n > 0 {
			c.next[p.Partition] = p.Records[n-1].Offset + 1
		}
	})
	if records > 0 {
		c.last = now
		c.set.read(records, bytes)
	}
}

// reached reports whether the consumer has read every one of its
// partitions up to end.
func (c *consumer) reached(end map[int32]int64) bool {
	for p, next := range c.next {
		if next < end[p] {
			return false
		}
	}
	return true
}

// totals returns the records and bytes read so far.
func (s *consumerSet) totals() (records, bytes int64) {
	return s.records.Load(), s.bytes.Load()
}

// recorders returns the consumers' latency recorders.
func (s *consumerSet) recorders() []*recorder {
	rs := make([]*recorder, len(s.consumers))
	for i, c := range s.consumers {
		rs[i] = c.latency
	}
	return rs
}

// result returns the outcome of a run that began at start, given the
// offsets the consumers began at and, when known, the end offsets they
// were to reach. Call it after the consumers have ended and before close.
func (s *consumerSet) result(start time.Time, from, end map[int32]int64) *ConsumeResult {
	records, bytes := s.totals()
	r := &ConsumeResult{
		Consumers:    len(s.consumers),
		Records:      records,
		Bytes:        bytes,
		Errors:       s.errs.total.Load(),
		ErrorSamples: s.errs.samples(),
		StoppedBy:    "end offsets reached",
	}
	last := start
	for _, c := range s.consumers {
		r.Foreign += c.foreign.Load()
		if c.last.After(last) {
			last = c.last
		}
	}
	cause := context.Cause(s.stop)
	switch {
	case errors.Is(cause, context.Canceled):
		r.StoppedBy = "interrupted"
	case cause != nil:
		r.StoppedBy = cause.Error()
	}
	if end != nil {
		for p, o := range end {
			r.Expected += o - from[p]
		}
		// Records short of the end offsets are missing only when the
		// run was to read up to them.
		if cause == nil || errors.Is(cause, errDrainTimeout) {
			r.Missing = max(0, r.Expected-records)
		}
	}
	r.Elapsed = last.Sub(start)
	r.RecordsPerSec, r.MBps = rates(records, bytes, r.Elapsed)
	return r
}
