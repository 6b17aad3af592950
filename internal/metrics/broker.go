package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/broker"
)

// errorConnectionClosed is the error label of requests whose handler
// failed, so that the broker closed the connection instead of answering.
const errorConnectionClosed = "connection_closed"

// brokerObserver is the broker.Observer of Metrics.
type brokerObserver struct {
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	open     prometheus.Gauge
	accepted prometheus.Counter
	topics   *topicBytes

	// byKey caches each API's series, so that a request costs no label
	// lookup; filled on the API's first request.
	byKey [kmsg.MaxKey + 1]atomic.Pointer[apiSeries]
}

// apiSeries are the series of one API.
type apiSeries struct {
	name     string
	requests prometheus.Counter
	latency  prometheus.Observer
}

var _ broker.Observer = (*brokerObserver)(nil)

func newBrokerObserver(topics *topicBytes) *brokerObserver {
	return &brokerObserver{
		topics: topics,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "kafka", Name: "requests_total",
			Help: "Kafka requests served, by API.",
		}, []string{"api"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "kafka", Name: "request_errors_total",
			Help: "Kafka responses carrying an error code, by API and error (a response with several codes counts once for each).",
		}, []string{"api", "error"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "kafka", Name: "request_duration_seconds",
			Help: "Time from a parsed Kafka request to its response, by API (fsync waits and fetch long polls included).",
			// 100 µs to 13 s.
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}, []string{"api"}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "kafka", Name: "connections_open",
			Help: "Kafka client connections open.",
		}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "kafka", Name: "connections_accepted_total",
			Help: "Kafka client connections accepted.",
		}),
	}
}

func (o *brokerObserver) register(r *prometheus.Registry) {
	r.MustRegister(o.requests, o.errors, o.latency, o.open, o.accepted)
}

// ConnectionOpened counts a connection accepted.
func (o *brokerObserver) ConnectionOpened() {
	o.accepted.Inc()
	o.open.Inc()
}

// ConnectionClosed counts a connection closed.
func (o *brokerObserver) ConnectionClosed() { o.open.Dec() }

// Served counts a request, its latency and its error codes.
func (o *brokerObserver) Served(s broker.Served) {
	api := o.api(s.Key)
	api.requests.Inc()
	api.latency.Observe(s.Latency.Seconds())
	for _, code := range s.ErrorCodes {
		o.errors.WithLabelValues(api.name, errorName(code)).Inc()
	}
	if s.Failed {
		o.errors.WithLabelValues(api.name, errorConnectionClosed).Inc()
	}
}

// TopicBytesIn counts record bytes produced to a topic.
func (o *brokerObserver) TopicBytesIn(topic string, n int) { o.topics.add(topic, n, 0) }

// TopicBytesOut counts record bytes fetched from a topic.
func (o *brokerObserver) TopicBytesOut(topic string, n int) { o.topics.add(topic, 0, n) }

// api returns the series of an API key.
func (o *brokerObserver) api(key int16) *apiSeries {
	if key < 0 || int(key) >= len(o.byKey) {
		return o.newAPISeries(key)
	}
	if s := o.byKey[key].Load(); s != nil {
		return s
	}
	s := o.newAPISeries(key)
	o.byKey[key].CompareAndSwap(nil, s)
	return o.byKey[key].Load()
}

func (o *brokerObserver) newAPISeries(key int16) *apiSeries {
	name := kmsg.NameForKey(key)
	return &apiSeries{name: name, requests: o.requests.WithLabelValues(name), latency: o.latency.WithLabelValues(name)}
}

// errorName returns the name of a Kafka error code (as Kafka spells it,
// UNKNOWN_TOPIC_OR_PARTITION), or "UNKNOWN" for a code Kafka does not
// define, so that the label's values stay a known, bounded set.
func errorName(code int16) string {
	if e := kerr.TypedErrorForCode(code); e != nil && e.Code == code {
		return e.Message
	}
	return "UNKNOWN"
}
