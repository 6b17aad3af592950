package kafkabench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TxnConfig configures the transactions workload (`weir bench txn`):
// Producers transactional producers, each committing transactions of
// RecordsPerTxn records as fast as it can, while a read_committed
// consumer reads them.
type TxnConfig struct {
	Brokers       []string      `json:"brokers"`
	Topic         string        `json:"topic"`
	Partitions    int32         `json:"partitions"`
	Producers     int           `json:"producers"`
	RecordsPerTxn int           `json:"records_per_txn"`
	RecordSize    int           `json:"record_size"`
	Duration      time.Duration `json:"duration_ns"`
}

// DefaultTxnConfig returns 4 producers, transactions of 10 records of
// 1 KiB, 8 partitions, 20 s.
func DefaultTxnConfig() TxnConfig {
	return TxnConfig{Brokers: []string{"127.0.0.1:9092"}, Topic: "weir-bench-txn", Partitions: 8, Producers: 4, RecordsPerTxn: 10, RecordSize: 1024, Duration: 20 * time.Second}
}

// TxnResult is the outcome of the transactions workload.
type TxnResult struct {
	Workload     string        `json:"workload"`
	Config       TxnConfig     `json:"config"`
	Transactions int64         `json:"transactions"`
	Errors       int64         `json:"errors"`
	FirstError   string        `json:"first_error,omitempty"`
	Elapsed      time.Duration `json:"elapsed_ns"`
	TxnsPerSec   float64       `json:"transactions_per_s"`
	// Latency is of whole transactions: Begin to the committed answer.
	Latency Latency `json:"latency"`
	// EndToEnd is from a record's produce to the read_committed consumer
	// receiving it: what committing and the last stable offset add.
	EndToEnd Latency `json:"end_to_end_latency"`
	Consumed int64   `json:"consumed"`
}

// RunTxn runs the transactions workload.
func RunTxn(ctx context.Context, cfg TxnConfig) (*TxnResult, error) {
	if cfg.Producers < 1 || cfg.RecordsPerTxn < 1 || cfg.Duration <= 0 || cfg.RecordSize < stampSize {
		return nil, errors.New("txn: producers, records per transaction and duration must be positive, records at least 8 bytes")
	}
	admin, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.ClientID(clientID))
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	info, partitions, err := prepareTopic(ctx, admin, cfg.Topic, cfg.Partitions, -1, true)
	if err != nil {
		return nil, err
	}
	res := &TxnResult{Workload: "txn", Config: cfg}
	res.Config.Partitions = info.Partitions
	epoch := time.Now()

	// The consumer starts at the end, read_committed.
	ends, err := listEnds(ctx, admin, cfg.Topic, partitions)
	if err != nil {
		return nil, err
	}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.ClientID(clientID),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: ends}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	e2e := newRecorder()
	var consumed atomic.Int64
	cctx, stopConsumer := context.WithCancel(ctx)
	consumerDone := make(chan struct{})
	go func() {
		defer close(consumerDone)
		for cctx.Err() == nil {
			consumer.PollFetches(cctx).EachRecord(func(r *kgo.Record) {
				if stamp, ok := readStamp(r.Value); ok {
					e2e.record(time.Since(epoch) - stamp)
				}
				consumed.Add(1)
			})
		}
	}()

	latency := newRecorder()
	var txns, failures atomic.Int64
	var firstErr sync.Once
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	fill := filler(cfg.RecordSize, 2)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range cfg.Producers {
		wg.Go(func() {
			cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.ClientID(clientID),
				kgo.TransactionalID(fmt.Sprintf("weir-bench-txn-%d-%d", epoch.UnixNano(), i)),
				kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
			if err != nil {
				failures.Add(1)
				firstErr.Do(func() { res.FirstError = err.Error() })
				return
			}
			defer cl.Close()
			n := 0
			for runCtx.Err() == nil {
				began := time.Now()
				err := cl.BeginTransaction()
				for j := 0; err == nil && j < cfg.RecordsPerTxn; j++ {
					v := newValue(fill, cfg.RecordSize, n)
					putStamp(v, time.Since(epoch))
					p := partitions[(i+n)%len(partitions)]
					n++
					cl.Produce(runCtx, &kgo.Record{Topic: cfg.Topic, Partition: p, Value: v}, func(_ *kgo.Record, perr error) {
						if perr != nil && err == nil {
							err = perr
						}
					})
				}
				if ferr := cl.Flush(runCtx); err == nil {
					err = ferr
				}
				if eerr := cl.EndTransaction(context.WithoutCancel(runCtx), kgo.TransactionEndTry(err == nil)); err == nil {
					err = eerr
				}
				if runCtx.Err() != nil {
					return
				}
				if err != nil {
					failures.Add(1)
					firstErr.Do(func() { res.FirstError = err.Error() })
					continue
				}
				latency.record(time.Since(began))
				txns.Add(1)
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	// Let the consumer read the last committed records.
	deadline := time.Now().Add(10 * time.Second)
	for consumed.Load() < txns.Load()*int64(cfg.RecordsPerTxn) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stopConsumer()
	<-consumerDone
	res.Transactions, res.Errors, res.Consumed = txns.Load(), failures.Load(), consumed.Load()
	res.TxnsPerSec = float64(res.Transactions) / res.Elapsed.Seconds()
	res.Latency = summarize(merged([]*recorder{latency}))
	res.EndToEnd = summarize(merged([]*recorder{e2e}))
	return res, nil
}

// listEnds returns the partitions' end offsets, as consumer offsets.
func listEnds(ctx context.Context, cl *kgo.Client, topic string, partitions []int32) (map[int32]kgo.Offset, error) {
	ends, err := listOffsets(ctx, kadm.NewClient(cl), topic, partitions, true)
	if err != nil {
		return nil, err
	}
	out := make(map[int32]kgo.Offset, len(partitions))
	for _, p := range partitions {
		out[p] = kgo.NewOffset().At(ends[p])
	}
	return out, nil
}

// WriteJSON writes the result as one indented JSON object.
func (r *TxnResult) WriteJSON(w io.Writer) error { return writeJSON(w, r) }

// WriteText writes the result for people.
func (r *TxnResult) WriteText(w io.Writer) error {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "txn: %d transactional producers, %d records of %d B per transaction, topic %s (%d partitions), %v, at %s\n",
		c.Producers, c.RecordsPerTxn, c.RecordSize, c.Topic, c.Partitions, c.Duration, strings.Join(c.Brokers, ","))
	fmt.Fprintf(&b, "  committed %d transactions (%s transactions/s) in %.2f s; %d failed", r.Transactions, thousands(r.TxnsPerSec), r.Elapsed.Seconds(), r.Errors)
	if r.FirstError != "" {
		fmt.Fprintf(&b, " (first: %s)", r.FirstError)
	}
	fmt.Fprintf(&b, "\n  transaction latency        %s\n", latencyText(r.Latency))
	fmt.Fprintf(&b, "  read_committed end-to-end  %s (%d records read)\n", latencyText(r.EndToEnd), r.Consumed)
	_, err := io.WriteString(w, b.String())
	return err
}
