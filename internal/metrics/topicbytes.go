package metrics

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// topicBytes counts record bytes in and out per topic. It is a collector of
// its own rather than two CounterVecs so that the series of a deleted topic
// go away: each scrape drops the topics the storage engine no longer has.
// Since the broker reports only bytes stored in or read from real topics,
// the series are bounded by the topics that exist (plus those deleted since
// the last scrape).
type topicBytes struct {
	byTopic sync.Map // topic name -> *topicCounters
	in, out *prometheus.Desc

	// exists reports whether a topic exists; nil keeps every topic.
	exists atomic.Pointer[func(topic string) bool]
}

// topicCounters are one topic's counts.
type topicCounters struct {
	in, out atomic.Uint64
}

func newTopicBytes() *topicBytes {
	return &topicBytes{
		in: prometheus.NewDesc(prometheus.BuildFQName(namespace, "topic", "bytes_in_total"),
			"Bytes of record batches stored in the topic by produce requests.", []string{"topic"}, nil),
		out: prometheus.NewDesc(prometheus.BuildFQName(namespace, "topic", "bytes_out_total"),
			"Bytes of record batches returned from the topic by fetch responses.", []string{"topic"}, nil),
	}
}

// add counts in and out bytes of a topic.
func (t *topicBytes) add(topic string, in, out int) {
	c, ok := t.byTopic.Load(topic)
	if !ok {
		c, _ = t.byTopic.LoadOrStore(topic, &topicCounters{})
	}
	counters := c.(*topicCounters)
	if in > 0 {
		counters.in.Add(uint64(in))
	}
	if out > 0 {
		counters.out.Add(uint64(out))
	}
}

// setExists sets the function that tells which topics still exist (nil:
// all do).
func (t *topicBytes) setExists(exists func(topic string) bool) {
	if exists == nil {
		t.exists.Store(nil)
		return
	}
	t.exists.Store(&exists)
}

// Describe implements prometheus.Collector.
func (t *topicBytes) Describe(ch chan<- *prometheus.Desc) {
	ch <- t.in
	ch <- t.out
}

// Collect implements prometheus.Collector.
func (t *topicBytes) Collect(ch chan<- prometheus.Metric) {
	exists := t.exists.Load()
	t.byTopic.Range(func(k, v any) bool {
		topic := k.(string)
		if exists != nil && !(*exists)(topic) {
			t.byTopic.Delete(topic)
			return true
		}
		c := v.(*topicCounters)
		ch <- prometheus.MustNewConstMetric(t.in, prometheus.CounterValue, float64(c.in.Load()), topic)
		ch <- prometheus.MustNewConstMetric(t.out, prometheus.CounterValue, float64(c.out.Load()), topic)
		return true
	})
}
