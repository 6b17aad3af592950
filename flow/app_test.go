package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/brokertest"
	"github.com/weir-io/weir/internal/group"
)

// wordCount is the topology of the integration tests: words (one per
// record value) counted per word, every new count written to "counts".
func wordCount() *Topology {
	top := NewTopology()
	words := Source(top, "words", String(), String())
	SelectKey(words, func(_, w string) string { return w }, WithKeyCodec(String())).
		GroupByKey(Named("by-word")).Count(Named("counts")).ToStream().To("counts")
	return top
}

// startBroker starts a broker whose groups rebalance without delay.
func startBroker(t *testing.T) string {
	groups := group.DefaultConfig()
	groups.InitialRebalanceDelay = 0
	groups.MinSessionTimeout = time.Second
	cfg := broker.Config{Groups: &groups}
	if v := os.Getenv("WEIR_FLOW_TXN_VERSION"); v == "1" {
		cfg.TransactionVersion = 1
	}
	return brokertest.Start(t, cfg).Addr().String()
}

// runApp runs an application until its context is cancelled.
func runApp(t *testing.T, addr string, top *Topology, g Guarantee, stateDir string) (stop func()) {
	t.Helper()
	app, err := New(top, Config{ApplicationID: "wc", Brokers: []string{addr}, Guarantee: g, StateDir: stateDir, SessionTimeout: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := app.Run(ctx)
		if err != nil {
			t.Errorf("an instance stopped: %v", err)
		}
		done <- err
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

// TestAppWordCount runs word count exactly once against a broker with two
// instances, one of which stops half way: every count of every word is
// read back once, in order, with read_committed.
func TestAppWordCount(t *testing.T) {
	eachGuarantee(t, testAppWordCount)
}

func testAppWordCount(t *testing.T, g Guarantee) {
	addr := startBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("words"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	admin := kadm.NewClient(cl)
	for topic, partitions := range map[string]int32{"words": 4, "counts": 4} {
		if _, err := admin.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	const words, rounds = 20, 25
	produce := func(from, to int) {
		for r := from; r < to; r++ {
			for w := range words {
				cl.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprint(r)), Value: []byte(fmt.Sprintf("w%02d", w))}, nil)
			}
		}
		if err := cl.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	stop1 := runApp(t, addr, wordCount(), g, dir+"/1")
	runApp(t, addr, wordCount(), g, dir+"/2")
	produce(0, rounds/2)
	waitCounts(ctx, t, addr, words, rounds/2, g)
	stop1()
	produce(rounds/2, rounds)
	final := waitCounts(ctx, t, addr, words, rounds, g)
	for w, counts := range final {
		if g == ExactlyOnce {
			for i, c := range counts {
				if c != int64(i+1) {
					t.Fatalf("word %s: counts %v, want 1 to %d once each", w, counts, rounds)
				}
			}
		}
	}
}

// waitCounts reads "counts" with read_committed until every word's last
// count is want, and returns every word's counts in order.
func waitCounts(ctx context.Context, t *testing.T, addr string, words, want int, g Guarantee) map[string][]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("counts"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	counts := map[string][]int64{}
	done := func() bool {
		if len(counts) < words {
			return false
		}
		for _, c := range counts {
			if c[len(c)-1] != int64(want) {
				return false
			}
		}
		return true
	}
	for !done() {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			var b strings.Builder
			for w, c := range counts {
				fmt.Fprintf(&b, "%s:%d ", w, c[len(c)-1])
			}
			t.Fatalf("counts did not reach %d: %s", want, b.String())
		}
		fetches.EachRecord(func(r *kgo.Record) {
			n, err := Int64().Decode(r.Value)
			if err != nil {
				t.Fatalf("a count of %d bytes", len(r.Value))
			}
			counts[string(r.Key)] = append(counts[string(r.Key)], n)
			if n > int64(want) && g == ExactlyOnce {
				t.Fatalf("word %s counted %d times, %d words were sent: some were counted twice", r.Key, n, want)
			}
		})
	}
	return counts
}

// TestAppCompression checks that the application's records are produced
// with Config.Compression, none by default, and that an unknown one is
// refused.
func TestAppCompression(t *testing.T) {
	if _, err := New(wordCount(), Config{ApplicationID: "wc", Brokers: []string{"localhost:1"}, Compression: "brotli"}); err == nil {
		t.Error("New accepted compression brotli")
	}
	for _, c := range []struct {
		name string
		want uint8 // the batches' compression attribute
	}{{"", 0}, {"snappy", 2}, {"zstd", 4}} {
		t.Run(c.name, func(t *testing.T) {
			addr := startBroker(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cl := pipeClient(t, ctx, addr, "words", "counts", 1)
			runConfigured(t, ctx, addr, Config{StateDir: t.TempDir(), Compression: c.name})
			// Many counts in a batch, which compresses (a batch that
			// would not shrink is sent as it is).
			const words = 500
			var in []*kgo.Record
			for i := range words {
				in = append(in, &kgo.Record{Value: fmt.Appendf(nil, "word-%03d", i)})
			}
			if err := cl.ProduceSync(ctx, in...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			codecs := map[uint8]int{}
			for n := 0; n < words; {
				fetches := cl.PollFetches(ctx)
				if ctx.Err() != nil {
					t.Fatalf("%d counts came of %d", n, words)
				}
				fetches.EachRecord(func(r *kgo.Record) {
					codecs[r.Attrs.CompressionType()]++
					n++
				})
			}
			// Counts by codec: some with the one wanted, none with
			// another (except none).
			if codecs[c.want] == 0 || len(codecs) > 2 || len(codecs) == 2 && codecs[0] == 0 {
				t.Fatalf("counts came with compression codecs %v, want %d", codecs, c.want)
			}
		})
	}
}

// TestAppPurgeRepartition checks that the records of a repartition topic
// that the application has consumed and committed are deleted
// (RepartitionPurgeInterval), under both guarantees, never past what the
// group committed.
func TestAppPurgeRepartition(t *testing.T) {
	eachGuarantee(t, func(t *testing.T, g Guarantee) {
		addr := startBroker(t)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cl := pipeClient(t, ctx, addr, "words", "counts", 2)
		admin := kadm.NewClient(cl)
		runConfigured(t, ctx, addr, Config{StateDir: t.TempDir(), Guarantee: g,
			CommitInterval: 50 * time.Millisecond, RepartitionPurgeInterval: 50 * time.Millisecond})
		var in []*kgo.Record
		for i := range 200 {
			in = append(in, &kgo.Record{Value: fmt.Appendf(nil, "w%02d", i%20)})
		}
		if err := cl.ProduceSync(ctx, in...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		topic := RepartitionTopic("wc", "by-word")
		for {
			if ctx.Err() != nil {
				t.Fatalf("the records of %s were not purged", topic)
			}
			starts, err := admin.ListStartOffsets(ctx, topic)
			if err != nil {
				continue // not created yet
			}
			ends, err := admin.ListEndOffsets(ctx, topic)
			if err != nil {
				t.Fatal(err)
			}
			committed, err := admin.FetchOffsets(ctx, "wc")
			if err != nil {
				t.Fatal(err)
			}
			// Done once every record was consumed (the committed
			// offset at the end, or before the last transaction's
			// marker) and purged up to the committed offset.
			written, done := int64(0), true
			ends.Each(func(end kadm.ListedOffset) {
				written += end.Offset
				start, _ := starts.Lookup(end.Topic, end.Partition)
				c, ok := committed.Lookup(end.Topic, end.Partition)
				if start.Offset > 0 && (!ok || c.At < start.Offset) {
					t.Fatalf("%s/%d purged to %d, past the committed offset %v", end.Topic, end.Partition, start.Offset, c.At)
				}
				done = done && ok && c.At >= end.Offset-1 && start.Offset == c.At
			})
			if written >= 200 && done {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestAppStateCleanup checks that the state directory of a task assigned
// elsewhere is deleted after Config.StateCleanupDelay, and the state of
// the tasks running here is kept.
func TestAppStateCleanup(t *testing.T) {
	addr := startBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("words"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopics(ctx, 2, 1, nil, "words", "counts"); err != nil {
		t.Fatal(err)
	}
	stateDir := t.TempDir()
	appDir := AppStateDir(stateDir, "wc")
	// The state of a task of a partition this instance will not have.
	gone := filepath.Join(appDir, taskID{sub: 1, partition: 5}.String())
	if err := os.MkdirAll(gone, 0o755); err != nil {
		t.Fatal(err)
	}
	runConfigured(t, ctx, addr, Config{StateDir: stateDir,
		CommitInterval: 20 * time.Millisecond, StateCleanupDelay: 300 * time.Millisecond})
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("a")}, &kgo.Record{Value: []byte("b")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for {
		if ctx.Err() != nil {
			t.Fatalf("the state of an unassigned task was kept: %s", gone)
		}
		if _, err := os.Stat(gone); errors.Is(err, fs.ErrNotExist) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for p := range int32(2) {
		if _, err := os.Stat(filepath.Join(appDir, taskID{sub: 1, partition: p}.String())); err != nil {
			t.Errorf("the state of an active task: %v", err)
		}
	}
}

// pipeClient creates topics in and out with the given partition count and
// returns a client that produces to in and reads out from its start, with
// read_committed; it is closed when the test ends.
func pipeClient(t *testing.T, ctx context.Context, addr, in, out string, partitions int32) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(in), kgo.ConsumeTopics(out),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	if _, err := kadm.NewClient(cl).CreateTopics(ctx, partitions, 1, nil, in, out); err != nil {
		t.Fatal(err)
	}
	return cl
}

// eachGuarantee runs f as a subtest under each processing guarantee,
// named after it.
func eachGuarantee(t *testing.T, f func(t *testing.T, g Guarantee)) {
	for _, g := range []Guarantee{ExactlyOnce, AtLeastOnce} {
		name := map[Guarantee]string{ExactlyOnce: "exactly-once", AtLeastOnce: "at-least-once"}[g]
		t.Run(name, func(t *testing.T) { f(t, g) })
	}
}

// runConfigured runs word count as application "wc" with cfg (its
// ApplicationID, Brokers and Logger set here) until the test ends, when
// it checks that Run returned nil.
func runConfigured(t *testing.T, ctx context.Context, addr string, cfg Config) {
	t.Helper()
	cfg.ApplicationID, cfg.Brokers = "wc", []string{addr}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := New(wordCount(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// TestAppAppendedValues writes values of many sizes, more in all than a
// chunk of the instance's arena holds, through sinks whose codecs append
// (Appender), so that the arena's chunks are written over between steps
// with values longer and shorter than they held: every value read back is
// the one written, under both guarantees.
func TestAppAppendedValues(t *testing.T) {
	eachGuarantee(t, func(t *testing.T, g Guarantee) {
		addr := startBroker(t)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cl := pipeClient(t, ctx, addr, "in", "out", 2)
		// Each value, a number, comes out with up to 288 bytes after
		// it, and goes through a repartition topic on the way.
		top := NewTopology()
		in := Source(top, "in", String(), String())
		MapValues(in.Repartition(Named("spread")), func(_, v string) string {
			n, _ := strconv.Atoi(v)
			return v + ":" + strings.Repeat("x", n%97*3)
		}, WithValueCodec(String())).To("out")
		runApp(t, addr, top, g, t.TempDir())

		const records = 3000
		var batch []*kgo.Record
		for i := range records {
			batch = append(batch, &kgo.Record{Key: fmt.Appendf(nil, "k%d", i%13), Value: fmt.Appendf(nil, "%d", i)})
		}
		if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for len(seen) < records {
			fetches := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("%d values came of %d", len(seen), records)
			}
			fetches.EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++ })
		}
		for i := range records {
			want := strconv.Itoa(i) + ":" + strings.Repeat("x", i%97*3)
			if n := seen[want]; n == 0 || g == ExactlyOnce && n != 1 {
				t.Fatalf("value %q came %d times", want, n)
			}
		}
	})
}
