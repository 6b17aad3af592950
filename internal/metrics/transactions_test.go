package metrics

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/brokertest"
	"github.com/weir-io/weir/internal/txn"
)

// fakeTransactions is a TransactionSource whose summary the test sets.
// With block set, Summary tells entered it is called and waits for
// release.
type fakeTransactions struct {
	mu      sync.Mutex
	summary txn.Summary
	block   bool
	entered chan struct{}
	release chan struct{}
}

func (f *fakeTransactions) Summary() txn.Summary {
	f.mu.Lock()
	s, block := f.summary, f.block
	f.mu.Unlock()
	if block {
		f.entered <- struct{}{}
		<-f.release
	}
	return s
}

func (f *fakeTransactions) set(s txn.Summary) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.summary = s
}

// transactionMetrics are the series of the transaction collector.
var transactionMetrics = []string{
	"weir_transactional_ids", "weir_transactions_open", "weir_transactions_completing",
	"weir_transactions_committed_total", "weir_transactions_aborted_total",
	"weir_transactions_timed_out_total", "weir_producers_fenced_total",
}

// transactionValues returns the value of each of transactionMetrics.
func transactionValues(t *testing.T, s scrape) map[string]float64 {
	t.Helper()
	values := make(map[string]float64)
	for _, name := range transactionMetrics {
		values[name] = s.value(t, name)
	}
	return values
}

func TestTransactionMetrics(t *testing.T) {
	src := &fakeTransactions{}
	src.set(txn.Summary{TransactionalIDs: 12, Open: 3, Completing: 1, Commits: 40, Aborts: 5, TimedOut: 2, Fenced: 7,
		Expired: 9, NextProducerID: 5000})
	m := New("test")
	m.WatchTransactions(src)
	t.Cleanup(func() { m.WatchTransactions(nil) })
	base := serveMetrics(t, m)

	s := scrapeMetrics(t, base)
	want := map[string]float64{
		"weir_transactional_ids": 12, "weir_transactions_open": 3, "weir_transactions_completing": 1,
		"weir_transactions_committed_total": 40, "weir_transactions_aborted_total": 5,
		"weir_transactions_timed_out_total": 2, "weir_producers_fenced_total": 7,
	}
	if got := transactionValues(t, s); !equalValues(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, name := range transactionMetrics {
		wantType := "GAUGE"
		if strings.HasSuffix(name, "_total") {
			wantType = "COUNTER"
		}
		if got := s[name].GetType().String(); got != wantType {
			t.Errorf("%s is a %s, want a %s", name, got, wantType)
		}
	}

	// The next scrape reads the summary again.
	src.set(txn.Summary{TransactionalIDs: 13, Commits: 44, Aborts: 5, TimedOut: 2, Fenced: 8})
	want = map[string]float64{
		"weir_transactional_ids": 13, "weir_transactions_open": 0, "weir_transactions_completing": 0,
		"weir_transactions_committed_total": 44, "weir_transactions_aborted_total": 5,
		"weir_transactions_timed_out_total": 2, "weir_producers_fenced_total": 8,
	}
	if got := transactionValues(t, scrapeMetrics(t, base)); !equalValues(got, want) {
		t.Errorf("after changes: got %v, want %v", got, want)
	}

	// nil stops the series, the others stay.
	m.WatchTransactions(nil)
	s = scrapeMetrics(t, base)
	for _, name := range transactionMetrics {
		if _, ok := s[name]; ok {
			t.Errorf("%s reported after WatchTransactions(nil)", name)
		}
	}
	if _, ok := s["weir_build_info"]; !ok {
		t.Errorf("the other metrics went away too")
	}
}

// TestWatchTransactionsWaitsForScrape: WatchTransactions(nil) returns only
// once a scrape reading the source is done, so that the coordinator may
// be stopped after it.
func TestWatchTransactionsWaitsForScrape(t *testing.T) {
	src := &fakeTransactions{block: true, entered: make(chan struct{}), release: make(chan struct{})}
	src.set(txn.Summary{Commits: 1})
	m := New("test")
	m.WatchTransactions(src)
	base := serveMetrics(t, m)

	type gathered struct {
		families []*dto.MetricFamily
		err      error
	}
	scraped := make(chan gathered)
	go func() {
		families, err := m.Registry().Gather()
		scraped <- gathered{families, err}
	}()
	<-src.entered
	// The scrape holds the collector: WatchTransactions(nil) must wait.
	if m.transactions.mu.TryLock() {
		m.transactions.mu.Unlock()
		t.Fatal("a scrape reads the source without holding the collector's lock")
	}
	stopped := make(chan struct{})
	go func() {
		m.WatchTransactions(nil)
		close(stopped)
	}()
	close(src.release)
	g := <-scraped
	if g.err != nil {
		t.Fatal(g.err)
	}
	done := make(scrape)
	for _, f := range g.families {
		done[f.GetName()] = f
	}
	if got := done.value(t, "weir_transactions_committed_total"); got != 1 {
		t.Errorf("the scrape in progress reported %v commits", got)
	}
	<-stopped
	if _, ok := scrapeMetrics(t, base)["weir_transactions_committed_total"]; ok {
		t.Errorf("reported after WatchTransactions(nil)")
	}
}

func equalValues(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// The transaction coordinator is what serve.go watches.
var _ TransactionSource = (*txn.Coordinator)(nil)

// TestTransactionMetricsFromBroker watches a real broker's coordinator
// while franz-go transactional producers commit, abort, leave a
// transaction open, let one time out and get fenced.
func TestTransactionMetricsFromBroker(t *testing.T) {
	m := New("test")
	b := brokertest.Start(t, broker.Config{Observer: m.Broker()})
	m.WatchTransactions(b.Txn())
	t.Cleanup(func() { m.WatchTransactions(nil) })
	base := serveMetrics(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addr := b.Addr().String()

	admin, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := kadm.NewClient(admin).CreateTopic(ctx, 2, 1, nil, "tx"); err != nil {
		t.Fatal(err)
	}
	producer := func(id string, timeout time.Duration) *kgo.Client {
		t.Helper()
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID(id), kgo.TransactionTimeout(timeout),
			kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	begin := func(cl *kgo.Client) error {
		if err := cl.BeginTransaction(); err != nil {
			return err
		}
		return cl.ProduceSync(ctx, &kgo.Record{Topic: "tx", Partition: 0, Value: []byte("v")}).FirstErr()
	}
	end := func(cl *kgo.Client, commit bool) {
		t.Helper()
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatalf("end transaction (commit %v): %v", commit, err)
		}
	}

	// "a" commits one transaction and aborts one; "open" leaves one open;
	// "slow" leaves one open past its timeout of 1 s.
	a := producer("a", 30*time.Second)
	for _, commit := range []bool{true, false} {
		if err := begin(a); err != nil {
			t.Fatal(err)
		}
		end(a, commit)
	}
	if err := begin(producer("open", 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := begin(producer("slow", time.Second)); err != nil {
		t.Fatal(err)
	}
	// A second producer with id "a" fences the first: its next
	// transaction is refused.
	if _, _, err := producer("a", 30*time.Second).ProducerID(ctx); err != nil {
		t.Fatal(err)
	}
	if err := begin(a); !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("the fenced producer's transaction: %v, want PRODUCER_FENCED", err)
	}

	// The coordinator aborts "slow" at its first tick past the timeout.
	var s scrape
	for {
		s = scrapeMetrics(t, base)
		// Its abort completes once its markers are written, just after.
		if s.value(t, "weir_transactions_timed_out_total") >= 1 && s.value(t, "weir_transactions_completing") == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the transaction of 1 s was not aborted: %v", transactionValues(t, s))
		case <-time.After(50 * time.Millisecond):
		}
	}
	got := transactionValues(t, s)
	want := map[string]float64{
		"weir_transactional_ids": 3, "weir_transactions_open": 1, "weir_transactions_completing": 0,
		"weir_transactions_committed_total": 1, "weir_transactions_aborted_total": 2, // a's and slow's
		"weir_transactions_timed_out_total": 1, "weir_producers_fenced_total": got["weir_producers_fenced_total"],
	}
	if !equalValues(got, want) || got["weir_producers_fenced_total"] < 1 {
		t.Errorf("got %v, want %v and a fenced producer", got, want)
	}
}
