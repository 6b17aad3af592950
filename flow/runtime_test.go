package flow

// Helpers of the integration tests of the runtime's state handling
// (rebalance_test.go, restore_test.go, standby_test.go) and of its
// benchmarks: word count instances against an in-process broker, words
// produced without pause, and the counts read back with read_committed.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
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

// testBroker starts a broker and creates the topics of word count
// ("words" and "counts", 4 partitions). The first rebalance of an empty
// group waits initialDelay for more members (Kafka's
// group.initial.rebalance.delay.ms, 3 s by default): instances started
// together then join its first generation together.
func testBroker(tb testing.TB, ctx context.Context, initialDelay time.Duration) (addr string, admin *kadm.Client) {
	tb.Helper()
	groups := group.DefaultConfig()
	groups.InitialRebalanceDelay = initialDelay
	groups.MinSessionTimeout = time.Second
	addr = brokertest.Start(tb, broker.Config{Groups: &groups}).Addr().String()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(cl.Close)
	admin = kadm.NewClient(cl)
	for _, topic := range []string{"words", "counts"} {
		if _, err := admin.CreateTopic(ctx, 4, 1, nil, topic); err != nil {
			tb.Fatal(err)
		}
	}
	return addr, admin
}

// restoreLog keeps what OnRestore reports.
type restoreLog struct {
	mu     sync.Mutex
	events []RestoreProgress
}

func (l *restoreLog) report(p RestoreProgress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, p)
}

// mark returns a position in the log, for done.
func (l *restoreLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// done returns the restores that ended since mark.
func (l *restoreLog) done(mark int) []RestoreProgress {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []RestoreProgress
	for _, e := range l.events[mark:] {
		if e.Done {
			out = append(out, e)
		}
	}
	return out
}

// instance is a word count instance running in this process.
type instance struct {
	name     string
	restores *restoreLog
	stop     func()
}

// instanceConfig is what differs between the tests' instances.
type instanceConfig struct {
	guarantee Guarantee
	standbys  int
	stateDir  string
}

// startInstance runs word count until stopped (at the end of the test
// at the latest).
func startInstance(tb testing.TB, addr, name string, ic instanceConfig) *instance {
	tb.Helper()
	in := &instance{name: name, restores: &restoreLog{}}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("WEIR_FLOW_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("instance", name)
	}
	app, err := New(wordCount(), Config{ApplicationID: "wc", Brokers: []string{addr}, Guarantee: ic.guarantee,
		StateDir: ic.stateDir, SessionTimeout: 2 * time.Second, TransactionTimeout: 3 * time.Second,
		StandbyReplicas: ic.standbys, OnRestore: in.restores.report, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := app.Run(ctx)
		if err != nil {
			tb.Errorf("instance %s stopped: %v", name, err)
		}
		done <- err
	}()
	var once sync.Once
	in.stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	tb.Cleanup(in.stop)
	return in
}

// wordCountWords is the number of distinct words the tests produce: one
// round produces each once.
const wordCountWords = 20

// wordProducer produces rounds of words.
type wordProducer struct {
	cl *kgo.Client
	mu sync.Mutex
	// rounds counts the rounds produced (acknowledged or not).
	rounds int
	stop   func() int
}

func newWordProducer(tb testing.TB, addr string) *wordProducer {
	tb.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("words"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(cl.Close)
	return &wordProducer{cl: cl}
}

// produce produces n rounds and waits for them to be acknowledged.
func (p *wordProducer) produce(tb testing.TB, ctx context.Context, n int) {
	tb.Helper()
	for range n {
		p.round(ctx)
	}
	if err := p.cl.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
}

// round produces every word once.
func (p *wordProducer) round(ctx context.Context) {
	p.mu.Lock()
	r := p.rounds
	p.rounds++
	p.mu.Unlock()
	for w := range wordCountWords {
		p.cl.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprint(r)), Value: []byte(fmt.Sprintf("w%02d", w))}, nil)
	}
}

// flow starts producing a round every pause until the returned function
// is called, which waits for the rounds to be acknowledged and returns
// how many there were in all.
func (p *wordProducer) flow(tb testing.TB, ctx context.Context, pause time.Duration) (stop func() int) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-time.After(pause):
				p.round(ctx)
			}
		}
	}()
	var once sync.Once
	return func() int {
		once.Do(func() {
			close(quit)
			<-done
			if err := p.cl.Flush(ctx); err != nil {
				tb.Error(err)
			}
		})
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.rounds
	}
}

// countReader reads "counts" with read_committed from the start, in the
// background: every count of every word, in order, and when the last of
// them came.
type countReader struct {
	// exact: each count must be the word's last plus one (exactly once);
	// the first that is not is kept in wrong.
	exact  bool
	mu     sync.Mutex
	wrong  string
	counts map[string][]int64
	// arrivals are when each word's counts came.
	arrivals map[string][]time.Time
	changed  chan struct{} // closed and replaced at every poll with records
}

// readCounts starts reading; exact says every count must come once, in
// order (exactly once), and wait fails as soon as one does not.
func readCounts(tb testing.TB, ctx context.Context, addr string, exact bool) *countReader {
	tb.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("counts"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		tb.Fatal(err)
	}
	r := &countReader{exact: exact, counts: map[string][]int64{}, arrivals: map[string][]time.Time{}, changed: make(chan struct{})}
	readCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for readCtx.Err() == nil {
			fetches := cl.PollFetches(readCtx)
			if fetches.NumRecords() == 0 {
				continue
			}
			now := time.Now()
			r.mu.Lock()
			fetches.EachRecord(func(rec *kgo.Record) {
				n, err := Int64().Decode(rec.Value)
				if err != nil {
					n = -1
				}
				c := r.counts[string(rec.Key)]
				if r.exact && r.wrong == "" && n != int64(len(c)+1) {
					r.wrong = fmt.Sprintf("word %s counted %d after %v", rec.Key, n, c)
				}
				r.counts[string(rec.Key)] = append(c, n)
				r.arrivals[string(rec.Key)] = append(r.arrivals[string(rec.Key)], now)
			})
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
		cl.Close()
	})
	return r
}

// wait waits until every word's last count is at least want (at least
// once, duplicates may have taken it past want).
func (r *countReader) wait(tb testing.TB, ctx context.Context, want int) map[string][]int64 {
	tb.Helper()
	for {
		r.mu.Lock()
		reached := len(r.counts) == wordCountWords
		for _, c := range r.counts {
			reached = reached && c[len(c)-1] >= int64(want)
		}
		changed, wrong := r.changed, r.wrong
		snapshot := make(map[string][]int64, len(r.counts))
		for w, c := range r.counts {
			snapshot[w] = append([]int64(nil), c...)
		}
		r.mu.Unlock()
		if wrong != "" {
			tb.Fatalf("not exactly once: %s", wrong)
		}
		if reached {
			return snapshot
		}
		select {
		case <-changed:
		case <-ctx.Done():
			var b strings.Builder
			for w, c := range snapshot {
				fmt.Fprintf(&b, "%s:%d ", w, c[len(c)-1])
			}
			tb.Fatalf("counts did not reach %d: %s", want, b.String())
		}
	}
}

// checkExact fails the test unless every word was counted 1, 2, ...
// rounds, each count once, in order.
func checkExact(tb testing.TB, counts map[string][]int64, rounds int) {
	tb.Helper()
	for w, c := range counts {
		ok := len(c) == rounds
		for i := 0; ok && i < len(c); i++ {
			ok = c[i] == int64(i+1)
		}
		if !ok {
			tb.Fatalf("word %s: counts %v, want 1 to %d once each", w, c, rounds)
		}
	}
}

// waitGroup waits until the group is stable with members members, each
// assigned partitions.
func waitGroup(tb testing.TB, ctx context.Context, admin *kadm.Client, members int) {
	tb.Helper()
	for {
		described, err := admin.DescribeGroups(ctx, "wc")
		if err != nil && ctx.Err() == nil {
			tb.Fatal(err)
		}
		g := described["wc"]
		busy := 0
		for _, m := range g.Members {
			if c, ok := m.Assigned.AsConsumer(); ok && len(c.Topics) > 0 {
				busy++
			}
		}
		if g.State == "Stable" && len(g.Members) == members && busy == members {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("the group never had %d members at work: %+v", members, g)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// changelogEnds returns the end offsets of the counts store's changelog,
// by partition.
func changelogEnds(tb testing.TB, ctx context.Context, admin *kadm.Client) map[int32]int64 {
	tb.Helper()
	ends, err := admin.ListEndOffsets(ctx, ChangelogTopic("wc", "counts"))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}
