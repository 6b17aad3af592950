package jepsen

// The clients. Each worker is one goroutine with its own random source
// (from the run's seed and the worker's name) and records every operation
// it invokes in the history. Workers run until their context ends; the
// transactional producers then abort what they have open.

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

const (
	topic     = "jepsen"
	groupName = "jepsen"
	// opTimeout bounds a send, an EndTxn or a commit: longer than the
	// broker's downtime and restart, so that most operations ride over a
	// kill and some do not.
	opTimeout = 10 * time.Second
	// txnTimeout is the transactions' timeout: a transaction left open by
	// a dead producer is aborted by the broker after it, if the producer's
	// successor has not fenced it first.
	txnTimeout   = 20 * time.Second
	fetchMaxWait = 300 * time.Millisecond
)

// workloadConfig sizes the workload.
type workloadConfig struct {
	partitions    int32
	txnProducers  int
	idemProducers int
	readers       int // read_committed consumers assigned every partition
	groupMembers  int // read_committed members of one consumer group
}

var defaultWorkload = workloadConfig{partitions: 5, txnProducers: 3, idemProducers: 2, readers: 2, groupMembers: 2}

// workload is the running clients.
type workload struct {
	cfg      workloadConfig
	addr     string
	rec      *recorder
	progress *progress
	// committing is signalled (without blocking) as an EndTxn(commit) is
	// sent, for the nemesis's targeted kills.
	committing chan struct{}
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

// startWorkload starts every worker against the broker at addr.
func startWorkload(cfg workloadConfig, addr string, seed uint64, rec *recorder) *workload {
	ctx, cancel := context.WithCancel(context.Background())
	w := &workload{cfg: cfg, addr: addr, rec: rec, progress: newProgress(), committing: make(chan struct{}, 1), cancel: cancel}
	start := func(name string, run func(ctx context.Context, name string, rng *rand.Rand)) {
		w.progress.register(name)
		h := fnv.New64a()
		h.Write([]byte(name))
		rng := rand.New(rand.NewPCG(seed, h.Sum64()))
		w.wg.Go(func() { run(ctx, name, rng) })
	}
	for n := range cfg.txnProducers {
		start(fmt.Sprint("txn-", n), w.runTxnProducer)
	}
	for n := range cfg.idemProducers {
		start(fmt.Sprint("idem-", n), w.runIdempotentProducer)
	}
	for n := range cfg.readers {
		start(fmt.Sprint("read-", n), w.runReader)
	}
	for n := range cfg.groupMembers {
		start(fmt.Sprint("group-", n), w.runGroupMember)
	}
	return w
}

// stop stops every worker and waits for them.
func (w *workload) stop() {
	w.cancel()
	w.wg.Wait()
}

// transactionalIDs are the producers' transactional ids.
func (w *workload) transactionalIDs() []string {
	var ids []string
	for n := range w.cfg.txnProducers {
		ids = append(ids, transactionalID(fmt.Sprint("txn-", n)))
	}
	return ids
}

func transactionalID(worker string) string { return "jepsen-" + worker }

// transactionsVersion1 caps the request versions of transactions version
// 2 (Produce 12, EndTxn 5, TxnOffsetCommit 5), so that franz-go uses
// version 1 against a broker that finalizes version 2.
func transactionsVersion1() *kversion.Versions {
	v := kversion.Stable()
	v.SetMaxKeyVersion(kmsg.Produce.Int16(), 11)
	v.SetMaxKeyVersion(kmsg.EndTxn.Int16(), 4)
	v.SetMaxKeyVersion(kmsg.TxnOffsetCommit.Int16(), 4)
	return v
}

func (w *workload) clientOpts(extra ...kgo.Opt) []kgo.Opt {
	return append([]kgo.Opt{
		kgo.SeedBrokers(w.addr),
		// Reconnect soon after a restart rather than backing off to
		// seconds.
		kgo.RetryBackoffFn(func(int) time.Duration { return time.Duration(50+rand.IntN(150)) * time.Millisecond }),
	}, extra...)
}

func (w *workload) newClient(opts ...kgo.Opt) *kgo.Client {
	cl, err := kgo.NewClient(w.clientOpts(opts...)...)
	if err != nil {
		panic(fmt.Sprintf("jepsen: client options: %v", err)) // only a bad option fails
	}
	return cl
}

// runTxnProducer runs transactions one after another, re-creating its
// client (same transactional id) when a transaction ends in an error.
func (w *workload) runTxnProducer(ctx context.Context, name string, rng *rand.Rand) {
	var cl *kgo.Client
	process, clients := "", 0
	for seq := 0; ctx.Err() == nil; seq++ {
		if cl == nil {
			clients++
			process = fmt.Sprintf("%s/%d", name, clients)
			opts := []kgo.Opt{kgo.TransactionalID(transactionalID(name)), kgo.TransactionTimeout(txnTimeout),
				kgo.RecordPartitioner(kgo.ManualPartitioner())}
			if name == "txn-1" {
				opts = append(opts, kgo.MaxVersions(transactionsVersion1()))
			}
			cl = w.newClient(opts...)
		}
		id := fmt.Sprintf("T%s.%d", name[len("txn-"):], seq)
		if !w.transaction(ctx, cl, rng, name, process, id) {
			cl.Close()
			cl = nil
		}
	}
	if cl != nil {
		cl.Close()
	}
}

// transaction runs transaction id: a few sends, then a commit or an abort
// (an abort whenever a send failed). It returns false when the client must
// be replaced: its state is unknown after an error of EndTxn.
func (w *workload) transaction(ctx context.Context, cl *kgo.Client, rng *rand.Rand, name, process, id string) bool {
	if err := cl.BeginTransaction(); err != nil {
		return false
	}
	partitions := rng.Perm(int(w.cfg.partitions))[:1+rng.IntN(3)]
	records := make([]*kgo.Record, 2+rng.IntN(4))
	sends := make([]*op, len(records))
	values := make([]string, len(records))
	for i := range records {
		values[i] = fmt.Sprintf("%s.%d", id, i)
		p := int32(partitions[i%len(partitions)])
		records[i] = &kgo.Record{Topic: topic, Partition: p, Value: []byte(values[i])}
		sends[i] = w.rec.invoke(op{Process: process, Kind: kindSend, Value: values[i], Partition: p, Offset: -1, Txn: id})
	}
	sendCtx, cancel := context.WithTimeout(ctx, opTimeout)
	acked := w.completeSends(records, sends, cl.ProduceSync(sendCtx, records...))
	cancel()
	commit := acked && ctx.Err() == nil && rng.IntN(4) != 0
	end := w.rec.invoke(op{Process: process, Kind: kindTxn, Txn: id, Values: values, Commit: commit})
	// One EndTxn in ten gets a deadline it may miss: an unknown outcome
	// with the broker alive, and a client re-created while its EndTxn
	// may still be in progress.
	endTimeout := opTimeout
	if rng.IntN(10) == 0 {
		endTimeout = time.Duration(1+rng.IntN(20)) * time.Millisecond
	}
	if commit {
		select {
		case w.committing <- struct{}{}:
		default:
		}
	}
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endTimeout)
	err := cl.EndTransaction(endCtx, kgo.TransactionEndTry(commit))
	cancel()
	w.rec.complete(end, func(o *op) {
		switch {
		case !commit:
			o.Outcome = aborted
		case err == nil:
			o.Outcome = committed
		case errors.Is(err, kerr.OperationNotAttempted): // no EndTxn was sent
			o.Outcome = aborted
		default:
			o.Outcome = unknown
		}
		if err != nil {
			o.Err = err.Error()
		}
	})
	if err == nil && acked {
		w.progress.add(name)
	}
	return err == nil
}

// completeSends records the results of the sends of records (results
// come in the order they completed) and reports whether all were
// acknowledged.
func (w *workload) completeSends(records []*kgo.Record, sends []*op, results kgo.ProduceResults) bool {
	byRecord := make(map[*kgo.Record]*op, len(records))
	for i, r := range records {
		byRecord[r] = sends[i]
	}
	all := len(results) == len(records)
	for _, res := range results {
		w.rec.complete(byRecord[res.Record], func(o *op) {
			if res.Err != nil {
				o.Outcome, o.Err = unknown, res.Err.Error()
				return
			}
			o.Outcome, o.Offset = ok, res.Record.Offset
		})
		all = all && res.Err == nil
	}
	return all
}

// runIdempotentProducer sends batches of records with franz-go's default,
// idempotent, producer, one client for the whole run.
func (w *workload) runIdempotentProducer(ctx context.Context, name string, rng *rand.Rand) {
	process := name + "/1"
	cl := w.newClient(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer cl.Close()
	for seq := 0; ctx.Err() == nil; {
		records := make([]*kgo.Record, 1+rng.IntN(6))
		sends := make([]*op, len(records))
		for i := range records {
			v := fmt.Sprintf("I%s.%d", name[len("idem-"):], seq)
			seq++
			p := int32(rng.IntN(int(w.cfg.partitions)))
			records[i] = &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)}
			sends[i] = w.rec.invoke(op{Process: process, Kind: kindSend, Value: v, Partition: p, Offset: -1})
		}
		sendCtx, cancel := context.WithTimeout(ctx, opTimeout)
		if w.completeSends(records, sends, cl.ProduceSync(sendCtx, records...)) {
			w.progress.add(name)
		}
		cancel()
	}
}

// runReader consumes every partition from offset 0, read_committed, in
// one session for the whole run.
func (w *workload) runReader(ctx context.Context, name string, _ *rand.Rand) {
	process := name + "/1"
	offsets := map[int32]kgo.Offset{}
	var all []int32
	for p := range w.cfg.partitions {
		offsets[p] = kgo.NewOffset().At(0)
		all = append(all, p)
	}
	cl := w.newClient(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(fetchMaxWait))
	defer cl.Close()
	w.rec.event(op{Process: process, Kind: kindAssigned, Partitions: all, From: 0})
	for ctx.Err() == nil {
		if w.recordPolls(process, cl.PollFetches(ctx)) {
			w.progress.add(name)
		}
	}
}

// runGroupMember consumes in the group, read_committed, committing what
// each poll returned before polling again (and before any rebalance: the
// rebalance callbacks wait for AllowRebalance).
func (w *workload) runGroupMember(ctx context.Context, name string, _ *rand.Rand) {
	process := name + "/1"
	event := func(k kind) func(context.Context, *kgo.Client, map[string][]int32) {
		return func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
			ps := slices.Sorted(slices.Values(assigned[topic]))
			if len(ps) > 0 {
				w.rec.event(op{Process: process, Kind: k, Partitions: ps, From: -1})
			}
		}
	}
	cl := w.newClient(kgo.ConsumerGroup(groupName), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(fetchMaxWait),
		kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
		kgo.SessionTimeout(6*time.Second), kgo.HeartbeatInterval(500*time.Millisecond), kgo.RebalanceTimeout(10*time.Second),
		kgo.OnPartitionsAssigned(event(kindAssigned)), kgo.OnPartitionsRevoked(event(kindRevoked)), kgo.OnPartitionsLost(event(kindLost)))
	defer cl.Close()
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		polled := w.recordPolls(process, fs)
		next := map[int32]kgo.EpochOffset{}
		fs.EachRecord(func(r *kgo.Record) {
			next[r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
		})
		if len(next) > 0 && w.commit(ctx, cl, process, next) && polled {
			w.progress.add(name)
		}
		cl.AllowRebalance()
	}
}

// commit commits offsets synchronously and records each partition's
// commit; it reports whether all were acknowledged.
func (w *workload) commit(ctx context.Context, cl *kgo.Client, process string, offsets map[int32]kgo.EpochOffset) bool {
	ops := map[int32]*op{}
	for _, p := range slices.Sorted(maps.Keys(offsets)) {
		ops[p] = w.rec.invoke(op{Process: process, Kind: kindCommit, Partition: p, Offset: offsets[p].Offset})
	}
	all := true
	commitCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	cl.CommitOffsetsSync(commitCtx, map[string]map[int32]kgo.EpochOffset{topic: offsets},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			codes := map[int32]int16{}
			if err == nil {
				for _, t := range resp.Topics {
					for _, p := range t.Partitions {
						codes[p.Partition] = p.ErrorCode
					}
				}
			}
			for p, o := range ops {
				code, answered := codes[p]
				w.rec.complete(o, func(o *op) {
					switch {
					case err != nil:
						o.Outcome, o.Err = unknown, err.Error()
					case !answered:
						o.Outcome, o.Err = unknown, "no answer for the partition"
					case code != 0:
						o.Outcome, o.Err = failed, kerr.ErrorForCode(code).Error()
					default:
						o.Outcome = ok
					}
				})
				all = all && err == nil && answered && code == 0
			}
		})
	return all
}

// recordPolls records the records of each partition of a poll, and
// reports whether there were any.
func (w *workload) recordPolls(process string, fs kgo.Fetches) bool {
	any := false
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 {
			return
		}
		rs := make([]record, len(p.Records))
		for i, r := range p.Records {
			rs[i] = record{Offset: r.Offset, Value: string(r.Value)}
		}
		w.rec.event(op{Process: process, Kind: kindPoll, Partition: p.Partition, Records: rs})
		any = true
	})
	return any
}

// progress counts each worker's successful operations, for the nemesis to
// wait on.
type progress struct {
	mu      sync.Mutex
	counts  map[string]int
	changed chan struct{} // closed and replaced on every change
}

func newProgress() *progress {
	return &progress{counts: map[string]int{}, changed: make(chan struct{})}
}

func (p *progress) register(worker string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[worker] = 0
}

func (p *progress) add(worker string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[worker]++
	close(p.changed)
	p.changed = make(chan struct{})
}

// snapshot returns every worker's count.
func (p *progress) snapshot() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := make(map[string]int, len(p.counts))
	for w, n := range p.counts {
		s[w] = n
	}
	return s
}

// waitPast waits until every worker's count is past since, or ctx ends;
// it returns the workers that made no progress.
func (p *progress) waitPast(ctx context.Context, since map[string]int) []string {
	for {
		p.mu.Lock()
		var idle []string
		for w, n := range p.counts {
			if n <= since[w] {
				idle = append(idle, w)
			}
		}
		changed := p.changed
		p.mu.Unlock()
		if len(idle) == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			slices.Sort(idle)
			return idle
		}
	}
}
