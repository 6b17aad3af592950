package storagebench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/weir-io/weir/internal/storage"
)

// The append runner: Writers goroutines append copies of a template batch
// to the partitions in global round-robin order (append n goes to
// partitions[n % len]); each writer hands every AppendResult to its own
// waiter goroutine, which waits on Engine.WaitDurable in append order and
// records the append-to-durable latency. A writer blocks while Inflight of
// its appends are waiting, as a Kafka producer does at max.in.flight.
// Throughput counts only appends acknowledged durable.

// appendParams say what to append and when to stop.
type appendParams struct {
	engine     *engine
	partitions []*storage.Partition
	template   []byte
	writers    int
	inflight   int
	// Stop after duration (when positive) or after appends appends (when
	// positive), whichever comes first.
	duration time.Duration
	appends  int64
	// progress, when not nil, gets a line every progressEvery.
	progress io.Writer
	label    string
}

// AppendRun is one run of the append runner.
type AppendRun struct {
	Appends       int64         `json:"appends"`
	Bytes         int64         `json:"bytes"` // batch bytes acknowledged durable
	Elapsed       time.Duration `json:"elapsed_ns"`
	MBps          float64       `json:"mb_per_s"`
	AppendsPerSec float64       `json:"appends_per_s"`
	Fsyncs        int64         `json:"fsyncs"`
	FsyncsPerSec  float64       `json:"fsyncs_per_s"`
	// LatencyP50 and the others are append-to-durable latencies.
	LatencyP50  time.Duration `json:"latency_p50_ns"`
	LatencyP99  time.Duration `json:"latency_p99_ns"`
	LatencyP999 time.Duration `json:"latency_p999_ns"`
	LatencyMax  time.Duration `json:"latency_max_ns"`
	// CPU is the process's user+system CPU time over Elapsed: 2.0 is two
	// cores busy.
	CPU float64 `json:"cpu_cores"`
	// DDBeforeMBps and DDAfterMBps are the dd runs just before and after
	// this run (append16 and append100k, unless dd is skipped); DDMBps is
	// their mean and DDRatio is MBps/DDMBps. In a median, DDMBps and
	// DDRatio are the medians over the runs.
	DDBeforeMBps float64 `json:"dd_before_mb_per_s,omitempty"`
	DDAfterMBps  float64 `json:"dd_after_mb_per_s,omitempty"`
	DDMBps       float64 `json:"dd_mb_per_s,omitempty"`
	DDRatio      float64 `json:"dd_ratio,omitempty"`
	// Append16Ratio (append100k only) is MBps over that of the append16
	// run made just before this one.
	Append16Ratio float64 `json:"append16_ratio,omitempty"`
}

const progressEvery = 5 * time.Second

type pendingAppend struct {
	result  storage.AppendResult
	started time.Time
	size    int
}

// runAppends runs the append runner.
func runAppends(ctx context.Context, p appendParams) (AppendRun, error) {
	if len(p.partitions) == 0 {
		return AppendRun{}, errors.New("no partitions to append to")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		issued   atomic.Int64
		acked    atomic.Int64
		ackBytes atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
		histMu   sync.Mutex
		hist     = newLatencyHistogram()
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	syncsBefore := p.engine.fs.syncs.Load()
	cpuBefore := cpuTime()
	started := time.Now()
	var deadline time.Time
	if p.duration > 0 {
		deadline = started.Add(p.duration)
	}
	stopProgress := startProgress(p.progress, p.label, started, &ackBytes)
	for range p.writers {
		queue := make(chan pendingAppend, p.inflight)
		wg.Add(2)
		go func() { // waiter
			defer wg.Done()
			local := newLatencyHistogram()
			for pa := range queue {
				if err := p.engine.WaitDurable(ctx, pa.result); err != nil {
					fail(fmt.Errorf("wait durable: %w", err))
					continue
				}
				local.RecordValue(time.Since(pa.started).Microseconds())
				acked.Add(1)
				ackBytes.Add(int64(pa.size))
			}
			histMu.Lock()
			hist.Merge(local)
			histMu.Unlock()
		}()
		go func() { // writer
			defer wg.Done()
			defer close(queue)
			batch := make([]byte, len(p.template))
			for ctx.Err() == nil {
				n := issued.Add(1)
				if p.appends > 0 && n > p.appends || !deadline.IsZero() && time.Now().After(deadline) {
					return
				}
				// The engine stamps the base offset in place: every append
				// gets its own copy of the template. Append copies the batch
				// into the log, so the copy can be reused once it returns.
				copy(batch, p.template)
				part := p.partitions[(n-1)%int64(len(p.partitions))]
				start := time.Now()
				r, err := part.Append(batch)
				if err != nil {
					fail(fmt.Errorf("append to %s/%d: %w", part.Topic(), part.Index(), err))
					return
				}
				select {
				case queue <- pendingAppend{result: r, started: start, size: len(batch)}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(started)
	stopProgress()
	if firstErr != nil {
		return AppendRun{}, firstErr
	}
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return AppendRun{}, err
	}
	run := AppendRun{
		Appends:     acked.Load(),
		Bytes:       ackBytes.Load(),
		Elapsed:     elapsed,
		Fsyncs:      p.engine.fs.syncs.Load() - syncsBefore,
		LatencyP50:  time.Duration(hist.ValueAtQuantile(50)) * time.Microsecond,
		LatencyP99:  time.Duration(hist.ValueAtQuantile(99)) * time.Microsecond,
		LatencyP999: time.Duration(hist.ValueAtQuantile(99.9)) * time.Microsecond,
		LatencyMax:  time.Duration(hist.Max()) * time.Microsecond,
		CPU:         (cpuTime() - cpuBefore).Seconds() / elapsed.Seconds(),
	}
	secs := elapsed.Seconds()
	run.MBps = float64(run.Bytes) / secs / 1e6
	run.AppendsPerSec = float64(run.Appends) / secs
	run.FsyncsPerSec = float64(run.Fsyncs) / secs
	return run, nil
}

// newLatencyHistogram records microseconds from 1 µs to 10 minutes with
// three significant digits.
func newLatencyHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(10*time.Minute/time.Microsecond), 3)
}

// startProgress prints the throughput every progressEvery until the
// returned function is called.
func startProgress(w io.Writer, label string, started time.Time, bytes *atomic.Int64) func() {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				secs := now.Sub(started).Seconds()
				b := bytes.Load()
				fmt.Fprintf(w, "%s: %.0fs, %.0f MiB durable, %.1f MB/s\n", label, secs, float64(b)/(1<<20), float64(b)/secs/1e6)
			}
		}
	}()
	return func() { close(done); <-finished }
}
