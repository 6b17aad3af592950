package flow

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestAppCrash: exactly-once under SIGKILL. Word count runs in a child
// process (this test binary, TestCrashChild) that is killed at random
// moments while words are produced, and started again; a second
// instance runs in this process throughout, so tasks move back and forth.
// In the end every count of every word must have been written once, in
// order: 1, 2, ... n, read with read_committed. Kills: 4, or
// WEIR_FLOW_CRASH_KILLS.
//
// On failure it logs the partitions' high watermarks and last stable
// offsets, the group's offsets and assignment, the transactions, and the
// batches of an output partition around an aborted transaction: what
// found that restoring to the last stable offset missed changes
// committed after a killed instance's open transaction.
func TestAppCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	kills := 4
	if s := os.Getenv("WEIR_FLOW_CRASH_KILLS"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	addr := startBroker(t)
	t.Setenv("WEIR_FLOW_CRASH_ADDR", addr)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("words"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	admin := kadm.NewClient(cl)
	for _, topic := range []string{"words", "counts"} {
		if _, err := admin.CreateTopic(ctx, 4, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	runApp(t, addr, wordCount(), ExactlyOnce, dir+"/local")
	var childLog lockedBuffer

	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), "WEIR_FLOW_CRASH_CHILD="+addr, "WEIR_FLOW_CRASH_DIR="+dir+"/child")
		cmd.Stdout, cmd.Stderr = &childLog, &childLog
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	defer func() {
		if t.Failed() {
			t.Logf("the child processes' logs:\n%s", childLog.String())
			dumpTopics(t, cl, "words", "wc-by-word-repartition", "wc-counts-changelog", "counts")
		}
	}()
	const words = 10
	rounds := 0
	child := start()
	for k := range kills {
		waitShared(ctx, t, admin)
		// Words keep coming while the child runs, for a random while.
		end := time.Now().Add(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		for time.Now().Before(end) {
			for w := range words {
				cl.Produce(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("w%02d", w))}, nil)
			}
			rounds++
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		}
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = child.Wait()
		t.Logf("kill %d after %d rounds", k+1, rounds)
		child = start()
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	final := waitCounts(ctx, t, addr, words, rounds, ExactlyOnce)
	_ = child.Process.Signal(syscall.SIGKILL)
	_ = child.Wait()
	for w, counts := range final {
		for i, c := range counts {
			if c != int64(i+1) {
				t.Fatalf("word %s: counts %v, want 1 to %d once each", w, counts, rounds)
			}
		}
	}
}

// waitShared waits until both instances are members of the group with
// partitions assigned: the child is then processing when it is killed.
func waitShared(ctx context.Context, t *testing.T, admin *kadm.Client) {
	t.Helper()
	for {
		described, err := admin.DescribeGroups(ctx, "wc")
		if err != nil {
			t.Fatal(err)
		}
		g := described["wc"]
		busy := 0
		for _, m := range g.Members {
			if c, ok := m.Assigned.AsConsumer(); ok && len(c.Topics) > 0 {
				busy++
			}
		}
		if g.State == "Stable" && busy == 2 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the two instances never shared the work: group %+v", g)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestCrashChild is the child process of TestAppCrash: it runs word count
// until it is killed.
func TestCrashChild(t *testing.T) {
	addr := os.Getenv("WEIR_FLOW_CRASH_CHILD")
	if addr == "" {
		t.Skip("run by TestAppCrash")
	}
	app, err := New(wordCount(), Config{ApplicationID: "wc", Brokers: []string{addr}, StateDir: os.Getenv("WEIR_FLOW_CRASH_DIR"), SessionTimeout: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// lockedBuffer is a buffer that child processes' output goes to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// dumpTopics logs the high watermark and last stable offset of every
// partition of topics, and the transactions the coordinator has open, to
// tell a stalled run's cause.
func dumpTopics(t *testing.T, cl *kgo.Client, topics ...string) {
	admin := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hw, _ := admin.ListEndOffsets(ctx, topics...)
	lso, _ := admin.ListCommittedOffsets(ctx, topics...)
	hw.Each(func(o kadm.ListedOffset) {
		l, _ := lso.Lookup(o.Topic, o.Partition)
		t.Logf("%s/%d: high watermark %d, last stable %d", o.Topic, o.Partition, o.Offset, l.Offset)
	})
	if addr := os.Getenv("WEIR_FLOW_CRASH_ADDR"); addr != "" {
		fresh, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("counts"),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err == nil {
			last := map[string]int64{}
			lastOffset := map[int32]int64{}
			for range 20 {
				pctx, pcancel := context.WithTimeout(ctx, 300*time.Millisecond)
				fresh.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
					n, _ := Int64().Decode(r.Value)
					last[string(r.Key)] = n
					lastOffset[r.Partition] = r.Offset
				})
				pcancel()
			}
			fresh.Close()
			t.Logf("a fresh read_committed consumer's last counts: %v, last offsets %v", last, lastOffset)
			for p, o := range lastOffset {
				req := kmsg.NewPtrFetchRequest()
				req.MaxWaitMillis, req.MaxBytes, req.IsolationLevel, req.SessionEpoch = 100, 1<<20, 1, -1
				rt := kmsg.NewFetchRequestTopic()
				rt.Topic = "counts"
				rp := kmsg.NewFetchRequestTopicPartition()
				rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LogStartOffset = p, o+1, 1<<20, -1, -1
				rt.Partitions = append(rt.Partitions, rp)
				req.Topics = append(req.Topics, rt)
				resp, err := req.RequestWith(ctx, cl)
				if err != nil {
					t.Logf("raw fetch: %v", err)
					continue
				}
				fp := resp.Topics[0].Partitions[0]
				var batches []string
				for b := fp.RecordBatches; len(b) > 61; {
					base := int64(binary.BigEndian.Uint64(b))
					length := int(binary.BigEndian.Uint32(b[8:]))
					delta := int32(binary.BigEndian.Uint32(b[23:]))
					attrs := binary.BigEndian.Uint16(b[21:])
					pid := int64(binary.BigEndian.Uint64(b[43:]))
					batches = append(batches, fmt.Sprintf("[%d-%d attrs %x pid %d]", base, base+int64(delta), attrs, pid))
					if len(b) < 12+length {
						break
					}
					b = b[12+length:]
				}
				t.Logf("raw read_committed fetch of counts/%d at %d: error %d, high watermark %d, last stable %d, aborted %+v, batches %v",
					p, o+1, fp.ErrorCode, fp.HighWatermark, fp.LastStableOffset, fp.AbortedTransactions, batches)
				if len(fp.AbortedTransactions) > 0 {
					dumpBatches(ctx, t, cl, "counts", p, fp.AbortedTransactions[0].FirstOffset-3, fp.HighWatermark)
				}
			}
		}
	}
	if committed, err := admin.FetchOffsets(ctx, "wc"); err == nil {
		committed.Each(func(o kadm.OffsetResponse) { t.Logf("group wc: %s/%d committed %d", o.Topic, o.Partition, o.At) })
	}
	if described, err := admin.DescribeGroups(ctx, "wc"); err == nil {
		for _, m := range described["wc"].Members {
			c, _ := m.Assigned.AsConsumer()
			t.Logf("group wc (%s): member %s %s assigned %+v", described["wc"].State, m.MemberID, m.ClientHost, c)
		}
	}
	txns, err := admin.ListTransactions(ctx, nil, nil)
	if err != nil {
		t.Logf("list transactions: %v", err)
		return
	}
	described, _ := admin.DescribeTransactions(ctx, txns.TransactionalIDs()...)
	for id, d := range described {
		t.Logf("transaction %s: %s, producer %d/%d, started %d, timeout %d, partitions %v", id, d.State, d.ProducerID, d.ProducerEpoch, d.StartTimestamp, d.TimeoutMillis, d.Topics)
	}
}

// dumpBatches logs the batches of a partition between two offsets, read
// uncommitted: producer id and epoch, kind (data, commit, abort).
func dumpBatches(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, partition int32, from, to int64) {
	var lines []string
	for next := from; next < to; {
		req := kmsg.NewPtrFetchRequest()
		req.MaxWaitMillis, req.MaxBytes, req.SessionEpoch = 100, 1<<20, -1
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LogStartOffset = partition, next, 1<<20, -1, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Logf("dump fetch: %v", err)
			return
		}
		b := resp.Topics[0].Partitions[0].RecordBatches
		if len(b) == 0 {
			break
		}
		for len(b) > 61 {
			base := int64(binary.BigEndian.Uint64(b))
			length := int(binary.BigEndian.Uint32(b[8:]))
			attrs := binary.BigEndian.Uint16(b[21:])
			delta := int32(binary.BigEndian.Uint32(b[23:]))
			pid := int64(binary.BigEndian.Uint64(b[43:]))
			epoch := int16(binary.BigEndian.Uint16(b[51:]))
			kind := "data"
			if attrs&0x20 != 0 {
				// The control record's key: version, type (0 abort, 1 commit).
				kind = "marker"
				if len(b) >= 12+length {
					var batch kmsg.RecordBatch
					if batch.ReadFrom(b[:12+length]) == nil {
						var rec kmsg.Record
						if rec.ReadFrom(batch.Records) == nil && len(rec.Key) >= 4 {
							kind = map[byte]string{0: "ABORT", 1: "commit"}[rec.Key[3]]
						}
					}
				}
			}
			if base >= next-1 {
				lines = append(lines, fmt.Sprintf("%d-%d pid %d/%d %s", base, base+int64(delta), pid, epoch, kind))
			}
			next = base + int64(delta) + 1
			if len(b) < 12+length {
				break
			}
			b = b[12+length:]
		}
	}
	t.Logf("%s/%d from %d: %s", topic, partition, from, strings.Join(lines, "; "))
}
