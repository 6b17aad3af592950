package metrics

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/storage/commitlog"
)

// namespace prefixes every metric of Weir's own.
const namespace = "weir"

// Metrics is one node's metrics and readiness.
type Metrics struct {
	registry     *prometheus.Registry
	ready        *Readiness
	topics       *topicBytes
	broker       *brokerObserver
	log          *logObserver
	storage      *storageCollector
	groups       *groupCollector
	transactions *transactionCollector
}

// New returns the metrics of a node running version, registered on a
// registry of their own along with the Go runtime's and the process's.
// The readiness conditions Storage and KafkaListener start not ready.
func New(version string) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry(), ready: NewReadiness()}
	m.ready.Set(Storage, errNotOpen)
	m.ready.Set(KafkaListener, errNotListening)
	m.topics = newTopicBytes()
	m.broker = newBrokerObserver(m.topics)
	m.log = newLogObserver(m.ready)
	m.storage = newStorageCollector()
	m.groups = newGroupCollector()
	m.transactions = newTransactionCollector()
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   namespace,
		Name:        "build_info",
		Help:        "Always 1; the labels tell the version of Weir and of Go.",
		ConstLabels: prometheus.Labels{"version": version, "go_version": runtime.Version()},
	})
	buildInfo.Set(1)
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo,
		m.topics,
		m.storage,
		m.groups,
		m.transactions,
	)
	m.broker.register(m.registry)
	m.log.register(m.registry)
	return m
}

// Registry returns the registry the metrics are on.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Readiness returns the conditions /readyz reports.
func (m *Metrics) Readiness() *Readiness { return m.ready }

// Broker returns the observer to set as broker.Config.Observer.
func (m *Metrics) Broker() broker.Observer { return m.broker }

// CommitLog returns the observer to set as storage.Options.LogObserver. A
// failed fsync also makes the node not ready (condition CommitLog), for
// good: the log refuses appends until the node restarts.
func (m *Metrics) CommitLog() commitlog.Observer { return m.log }
