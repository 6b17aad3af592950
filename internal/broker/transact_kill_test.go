package broker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestGroupTransactKills: franz-go's consume-transform-produce session
// copies a topic while its workers are killed (connections cut, no
// LeaveGroup, no EndTxn) at random moments and restarted under the same
// transactional id, which fences the killed one: read_committed, the
// output holds every input record exactly once, in order per partition.
func TestGroupTransactKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills workers for several seconds")
	}
	b := startBroker(t, Config{Groups: testGroups()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := adminClient(t, b)
	const partitions, n, workers = 3, 1800, 2
	for _, topic := range []string{"in", "out"} {
		if _, err := admin.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	var rs []*kgo.Record
	for i := range n {
		p := int32(i % partitions)
		rs = append(rs, &kgo.Record{Topic: "in", Partition: p, Value: []byte(fmt.Sprintf("%d/%d", p, i/partitions))})
	}
	if err := client(t, b).ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	var endLogs atomic.Int32
	type worker struct {
		dialer *killableDialer
		cancel context.CancelFunc
		done   chan struct{}
	}
	start := func(id int) *worker {
		d := &killableDialer{}
		sess, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(b.Addr().String()), kgo.Dialer(d.dial),
			kgo.TransactionalID(fmt.Sprint("copier-", id)), kgo.TransactionTimeout(10*time.Second),
			kgo.ConsumerGroup("copy"), kgo.ConsumeTopics("in"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.SessionTimeout(1500*time.Millisecond), kgo.HeartbeatInterval(200*time.Millisecond),
			kgo.RequestRetries(3))
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithCancel(ctx)
		w := &worker{dialer: d, cancel: cancel, done: make(chan struct{})}
		go func() {
			defer close(w.done)
			defer sess.Close()
			for wctx.Err() == nil {
				fs := sess.PollRecords(wctx, 20)
				if wctx.Err() != nil {
					return
				}
				if err := sess.Begin(); err != nil {
					return
				}
				fs.EachRecord(func(r *kgo.Record) {
					sess.Produce(wctx, &kgo.Record{Topic: "out", Partition: r.Partition, Value: r.Value}, nil)
				})
				time.Sleep(25 * time.Millisecond) // the work: kills land mid-transaction
				committed, err := sess.End(wctx, kgo.TryCommit)
				if err != nil && wctx.Err() != nil {
					return
				}
				if !committed && endLogs.Add(1) < 6 {
					t.Logf("worker %d: not committed: %v", id, err)
				}
			}
		}()
		return w
	}
	var mu sync.Mutex
	running := make([]*worker, workers)
	for i := range running {
		running[i] = start(i)
	}
	// The reader: read_committed, everything the output holds.
	out := client(t, b, kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	seen := map[int32][]string{}
	total := 0
	kills := 0
	nextKill := time.Now().Add(time.Duration(100+rand.IntN(300)) * time.Millisecond)
	for total < n {
		pollCtx, pollCancel := context.WithTimeout(ctx, 100*time.Millisecond)
		fs := out.PollFetches(pollCtx)
		pollCancel()
		if ctx.Err() != nil {
			for p := int32(0); p < partitions; p++ {
				part, _ := b.engine.Partition("out", p)
				t.Logf("out/%d: %+v", p, part.Offsets())
			}
			dt := kmsg.NewPtrDescribeTransactionsRequest()
			dt.TransactionalIDs = []string{"copier-0", "copier-1"}
			for _, s := range b.txn.DescribeTransactions(dt).TransactionStates {
				t.Logf("%s: %s pid %d epoch %d topics %+v", s.TransactionalID, s.State, s.ProducerID, s.ProducerEpoch, s.Topics)
			}
			for _, s := range b.groups.Summaries() {
				t.Logf("group %+v", s)
			}
			t.Fatalf("after %d kills, %d of %d records in the output", kills, total, n)
		}
		fs.EachRecord(func(r *kgo.Record) {
			seen[r.Partition] = append(seen[r.Partition], string(r.Value))
			total++
		})
		if kills < 4 && time.Now().After(nextKill) {
			i := rand.IntN(workers)
			mu.Lock()
			running[i].dialer.kill()
			running[i].cancel()
			<-running[i].done
			running[i] = start(i) // the same transactional id: fences the killed one
			mu.Unlock()
			kills++
			nextKill = time.Now().Add(time.Duration(200+rand.IntN(600)) * time.Millisecond)
		}
	}
	for _, w := range running {
		w.cancel()
		<-w.done
	}
	// Nothing more arrives, and every partition is exactly its input, in
	// order.
	pollCtx, pollCancel := context.WithTimeout(ctx, time.Second)
	out.PollFetches(pollCtx).EachRecord(func(r *kgo.Record) { t.Errorf("an extra record %s in partition %d", r.Value, r.Partition) })
	pollCancel()
	for p := int32(0); p < partitions; p++ {
		if len(seen[p]) != n/partitions {
			t.Errorf("partition %d holds %d records, want %d", p, len(seen[p]), n/partitions)
		}
		for i, v := range seen[p] {
			if want := strconv.Itoa(int(p)) + "/" + strconv.Itoa(i); v != want {
				t.Errorf("partition %d, record %d is %s, want %s", p, i, v, want)
				break
			}
		}
	}
	if kills == 0 {
		t.Error("no worker was killed: the copy was too fast to test anything")
	}
	t.Logf("%d kills", kills)
}
