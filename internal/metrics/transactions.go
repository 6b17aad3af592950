package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weir-io/weir/internal/txn"
)

// TransactionSource tells what the node's transactions are: the
// transaction coordinator (*txn.Coordinator) is one.
type TransactionSource interface {
	// Summary returns the coordinator's gauges and its counters since it
	// started. It is called once per scrape.
	Summary() txn.Summary
}

// WatchTransactions makes scrapes report the transactions src summarizes:
// transactional ids, transactions open and completing, and how many were
// committed, aborted, timed out and fenced. WatchTransactions(nil) stops
// that, waiting for a scrape in progress: call it before stopping the
// coordinator or closing the engine beneath it.
func (m *Metrics) WatchTransactions(src TransactionSource) {
	m.transactions.watch(src)
}

// transactionCollector reads the coordinator's summary when scraped: a
// handful of series for the node, none per transactional id (there may be
// as many ids as producers, and their states change by the millisecond).
type transactionCollector struct {
	mu     sync.RWMutex // held for reading during a collection
	source TransactionSource

	ids, open, completing, committed, aborted, timedOut, fenced *prometheus.Desc
}

func newTransactionCollector() *transactionCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, nil, nil)
	}
	return &transactionCollector{
		ids:        desc("transactional_ids", "Transactional ids the node's transaction coordinator knows."),
		open:       desc("transactions_open", "Transactions open (Ongoing): begun, neither committed nor aborted."),
		completing: desc("transactions_completing", "Transactions committed or aborted whose markers are being written (PrepareCommit, PrepareAbort)."),
		committed:  desc("transactions_committed_total", "Transactions committed (markers written) since the node started."),
		aborted:    desc("transactions_aborted_total", "Transactions aborted (markers written) since the node started, by their producers or by the coordinator."),
		timedOut:   desc("transactions_timed_out_total", "Transactions the coordinator aborted since the node started because they outlived their timeout."),
		fenced:     desc("producers_fenced_total", "Requests refused since the node started because their producer was fenced by a newer epoch of its transactional id."),
	}
}

func (c *transactionCollector) watch(src TransactionSource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.source = src
}

// Describe implements prometheus.Collector.
func (c *transactionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.ids, c.open, c.completing, c.committed, c.aborted, c.timedOut, c.fenced} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *transactionCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.source == nil {
		return
	}
	s := c.source.Summary()
	gauge := func(d *prometheus.Desc, v int) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge(c.ids, s.TransactionalIDs)
	gauge(c.open, s.Open)
	gauge(c.completing, s.Completing)
	counter(c.committed, s.Commits)
	counter(c.aborted, s.Aborts)
	counter(c.timedOut, s.TimedOut)
	counter(c.fenced, s.Fenced)
}
