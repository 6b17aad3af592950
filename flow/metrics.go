package flow

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// appMetrics are an application's Prometheus metrics, registered in
// Config.Registerer; every method does nothing on a nil *appMetrics.
//
//	flow_operator_records_total{application, operator}       records an operator processed
//	flow_operator_process_seconds{application, operator}     time in an operator (and those it calls), 1 record in 64
//	flow_record_e2e_latency_seconds{application, sink}       wall clock minus event time, as records reach a sink
//	flow_late_records_total{application}                     records dropped as late
//	flow_watermark_seconds{application, task}                a task's watermark (Unix seconds)
//	flow_consumer_lag_records{application, topic, partition} records behind an input partition's high watermark
//	flow_commits_total{application, outcome}                 commits (transactions) by outcome
//	flow_commit_seconds{application}                         how long a commit takes
//	flow_restored_records_total{application, store}          changelog records applied restoring stores
type appMetrics struct {
	app       string
	records   *prometheus.CounterVec
	process   *prometheus.HistogramVec
	e2e       *prometheus.HistogramVec
	late      prometheus.Counter
	watermark *prometheus.GaugeVec
	lag       *prometheus.GaugeVec
	commits   *prometheus.CounterVec
	commit    prometheus.Observer
	restored  *prometheus.CounterVec
}

// sampleEvery is how often (in records of a task) an operator's process
// time is measured: reading the clock for every record of every operator
// would cost more than many operators do.
const sampleEvery = 64

// newAppMetrics registers an application's metrics in reg (nil: none).
func newAppMetrics(reg prometheus.Registerer, app string) (*appMetrics, error) {
	if reg == nil {
		return nil, nil
	}
	labels := prometheus.Labels{"application": app}
	m := &appMetrics{app: app,
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flow_operator_records_total",
			Help: "Records an operator processed.", ConstLabels: labels}, []string{"operator"}),
		process: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "flow_operator_process_seconds",
			Help:        "Time an operator took for a record, the operators it forwards to included; one record in 64 is timed.",
			ConstLabels: labels, Buckets: prometheus.ExponentialBuckets(1e-6, 4, 10)}, []string{"operator"}),
		e2e: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "flow_record_e2e_latency_seconds",
			Help:        "Wall clock minus event time of the records a sink writes.",
			ConstLabels: labels, Buckets: prometheus.ExponentialBuckets(1e-3, 4, 12)}, []string{"sink"}),
		late: prometheus.NewCounter(prometheus.CounterOpts{Name: "flow_late_records_total",
			Help: "Records dropped because the windows they belong to had closed.", ConstLabels: labels}),
		watermark: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "flow_watermark_seconds",
			Help: "A task's event-time watermark, in Unix seconds.", ConstLabels: labels}, []string{"task"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "flow_consumer_lag_records",
			Help: "Records of an input partition after the last one fetched.", ConstLabels: labels}, []string{"topic", "partition"}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flow_commits_total",
			Help: "Commits of progress (transactions under exactly-once), by outcome.", ConstLabels: labels}, []string{"outcome"}),
		restored: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flow_restored_records_total",
			Help: "Changelog records applied to restore a store.", ConstLabels: labels}, []string{"store"}),
	}
	commit := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "flow_commit_seconds",
		Help: "How long a commit of progress takes.", ConstLabels: labels, Buckets: prometheus.ExponentialBuckets(1e-4, 4, 10)})
	m.commit = commit
	for _, c := range []prometheus.Collector{m.records, m.process, m.e2e, m.late, m.watermark, m.lag, m.commits, commit, m.restored} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// taskMetrics are a task's series, looked up once.
type taskMetrics struct {
	records   []prometheus.Counter  // by node id
	process   []prometheus.Observer // by node id
	e2e       []prometheus.Observer // by node id, for sinks
	watermark prometheus.Gauge
	late      prometheus.Counter
	// n counts the task's operator calls, to sample process times;
	// reportedLate is the task's late count already added to late.
	n            uint64
	reportedLate int64
}

// bind gives a task its series.
func (m *appMetrics) bind(t *task) {
	if m == nil {
		return
	}
	tm := &taskMetrics{records: make([]prometheus.Counter, len(t.top.nodes)), process: make([]prometheus.Observer, len(t.top.nodes)),
		e2e: make([]prometheus.Observer, len(t.top.nodes)), watermark: m.watermark.WithLabelValues(t.id.String()), late: m.late}
	for _, n := range t.top.nodes {
		if n.sub != t.id.sub {
			continue
		}
		tm.records[n.id] = m.records.WithLabelValues(n.name)
		tm.process[n.id] = m.process.WithLabelValues(n.name)
		if n.kind == kindSink {
			tm.e2e[n.id] = m.e2e.WithLabelValues(n.name)
		}
	}
	t.metrics = tm
}

// processed counts a record of node n and, one time in sampleEvery,
// times it; the returned function ends the timing.
func (tm *taskMetrics) processed(t *task, n *node, r rec) (done func()) {
	tm.records[n.id].Inc()
	if e := tm.e2e[n.id]; e != nil {
		e.Observe(float64(t.now().UnixMilli()-r.ts) / 1000)
	}
	tm.n++
	if tm.n%sampleEvery != 0 {
		return nil
	}
	start := time.Now()
	return func() { tm.process[n.id].Observe(time.Since(start).Seconds()) }
}

// advanced reports a task's watermark and late records.
func (tm *taskMetrics) advanced(t *task) {
	tm.watermark.Set(float64(t.watermark) / 1000)
	if t.late > tm.reportedLate {
		tm.late.Add(float64(t.late - tm.reportedLate))
		tm.reportedLate = t.late
	}
}

// lagged sets an input partition's lag.
func (m *appMetrics) lagged(topic string, partition int32, lag int64) {
	if m == nil {
		return
	}
	m.lag.WithLabelValues(topic, itoa(partition)).Set(float64(max(lag, 0)))
}

// committed counts a commit and its time.
func (m *appMetrics) committed(ok bool, took time.Duration) {
	if m == nil {
		return
	}
	outcome := "committed"
	if !ok {
		outcome = "aborted"
	}
	m.commits.WithLabelValues(outcome).Inc()
	m.commit.Observe(took.Seconds())
}

// restoredRecords counts records applied restoring a store.
func (m *appMetrics) restoredRecords(store string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.restored.WithLabelValues(store).Add(float64(n))
}

func itoa(p int32) string { return strconv.Itoa(int(p)) }
