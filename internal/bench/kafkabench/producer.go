package kafkabench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// producerSet is the producers of a run. Each producer is one goroutine
// sending from its own record pool through its own kgo.Client, with an
// equal share of Config.Records and Config.Rate. Its client's promise
// goroutine records the latency and returns records to the pool.
type producerSet struct {
	cfg       Config
	producers []*producer
	errs      errorLog
}

type producer struct {
	client *kgo.Client
	// free is the record pool: records not buffered in the client.
	free chan *kgo.Record
	// quota is how many records to send (0: until stopped).
	quota int64
	pacer *pacer
	epoch time.Time

	// sent is written by the producer's goroutine and read after it ends.
	sent int64
	// acked and ackedBytes count acknowledged records and their value
	// bytes; written by the promise goroutine, read by the progress line.
	acked      atomic.Int64
	ackedBytes atomic.Int64
	latency    *recorder
	errs       *errorLog
	promise    func(*kgo.Record, error)
}

// newProducerSet creates the producers' clients and fills their pools.
// The epoch is the zero of the stamps.
func newProducerSet(cfg Config, epoch time.Time) (*producerSet, error) {
	opts, err := cfg.producerOptions()
	if err != nil {
		return nil, err
	}
	n := cfg.Producers
	if cfg.Records > 0 {
		n = int(min(int64(n), cfg.Records))
	}
	s := &producerSet{cfg: cfg}
	fill := filler(cfg.RecordSize, 1)
	for i := range n {
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("producer client: %w", err)
		}
		p := &producer{client: cl, epoch: epoch, latency: newRecorder(), errs: &s.errs}
		pool := cfg.BufferedRecords
		if cfg.Records > 0 {
			p.quota = cfg.Records / int64(n)
			if int64(i) < cfg.Records%int64(n) {
				p.quota++
			}
			pool = int(min(int64(pool), p.quota))
		}
		p.free = make(chan *kgo.Record, pool)
		for j := range pool {
			p.free <- &kgo.Record{Topic: cfg.Topic, Value: newValue(fill, cfg.RecordSize, i*cfg.BufferedRecords+j)}
		}
		p.promise = p.finish
		s.producers = append(s.producers, p)
	}
	return s, nil
}

// run sends from start until stop is closed or every producer has sent
// its quota, then waits for every record's outcome (at most about the
// delivery timeout) and returns when the last arrived.
func (s *producerSet) run(start time.Time, stop <-chan struct{}) time.Time {
	var wg sync.WaitGroup
	for _, p := range s.producers {
		p.pacer = newPacer(start, s.cfg.Rate/float64(len(s.producers)))
		wg.Go(func() {
			p.send(stop)
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DeliveryTimeout+s.cfg.Linger+10*time.Second)
			defer cancel()
			// A flush that times out leaves records to Close, which
			// fails them: they are counted as errors.
			p.client.Flush(ctx)
		})
	}
	wg.Wait()
	return time.Now()
}

// close closes the clients; records still buffered fail. It returns once
// every record's promise has run (every record is back in its pool), or
// after closeWait.
func (s *producerSet) close() {
	for _, p := range s.producers {
		p.client.Close()
	}
	deadline := time.Now().Add(closeWait)
	for _, p := range s.producers {
		for len(p.free) < cap(p.free) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
}

// closeWait bounds how long close waits for the last promises.
const closeWait = 10 * time.Second

// send is the producer's goroutine.
func (p *producer) send(stop <-chan struct{}) {
	// Records are produced under a context of their own: stopping
	// (including on an interrupt) stops sending, while the records
	// already sent still get their outcome.
	ctx := context.Background()
	for p.quota == 0 || p.sent < p.quota {
		if !p.pacer.wait(stop) {
			return
		}
		var r *kgo.Record
		select {
		case r = <-p.free:
		case <-stop:
			return
		}
		now := time.Now()
		r.Timestamp = now
		putStamp(r.Value, now.Sub(p.epoch))
		p.client.Produce(ctx, r, p.promise)
		p.sent++
	}
}

// finish is the promise of every record: it runs on the client's promise
// goroutine, one record at a time.
func (p *producer) finish(r *kgo.Record, err error) {
	if err != nil {
		p.errs.add(err)
	} else {
		// Timestamp was set from time.Now before Produce and carries the
		// monotonic clock reading.
		p.latency.record(time.Since(r.Timestamp))
		p.acked.Add(1)
		p.ackedBytes.Add(int64(len(r.Key) + len(r.Value)))
	}
	p.free <- r
}

// totals returns the records acknowledged, their bytes and the errors so
// far.
func (s *producerSet) totals() (records, bytes, errors int64) {
	for _, p := range s.producers {
		records += p.acked.Load()
		bytes += p.ackedBytes.Load()
	}
	return records, bytes, s.errs.total.Load()
}

// recorders returns the producers' latency recorders.
func (s *producerSet) recorders() []*recorder {
	rs := make([]*recorder, len(s.producers))
	for i, p := range s.producers {
		rs[i] = p.latency
	}
	return rs
}

// result returns the outcome of a run that began at start and ended at
// end. Call it after run and close.
func (s *producerSet) result(start, end time.Time) *ProduceResult {
	records, bytes, errors := s.totals()
	r := &ProduceResult{
		Producers:    len(s.producers),
		Records:      records,
		Bytes:        bytes,
		Errors:       errors,
		ErrorSamples: s.errs.samples(),
		TargetRate:   s.cfg.Rate,
		Latency:      summarize(merged(s.recorders())),
	}
	for _, p := range s.producers {
		r.Sent += p.sent
	}
	r.Elapsed = end.Sub(start)
	r.RecordsPerSec, r.MBps = rates(records, bytes, r.Elapsed)
	return r
}

// rates returns records and bytes per second (10^6 bytes to the MB).
func rates(records, bytes int64, elapsed time.Duration) (perSec, mbps float64) {
	secs := elapsed.Seconds()
	if secs <= 0 {
		return 0, 0
	}
	return float64(records) / secs, float64(bytes) / secs / 1e6
}
