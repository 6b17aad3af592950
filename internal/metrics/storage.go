package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weir-io/weir/internal/storage"
)

// WatchStorage makes scrapes read topics, partition sizes and disk use from
// engine, and drop the byte counts of topics it no longer has. nil stops
// that, waiting for a scrape in progress: call WatchStorage(nil) before
// closing the engine.
func (m *Metrics) WatchStorage(engine *storage.Engine) {
	m.storage.watch(engine)
	if engine == nil {
		m.topics.setExists(nil)
		return
	}
	m.topics.setExists(func(topic string) bool {
		_, err := engine.Topic(topic)
		return err == nil
	})
}

// storageCollector reads the engine's state when scraped. It walks every
// partition (a lock and a copy of its offsets each: on the order of 100 ms
// per million partitions) and reports sums per topic, never a series per
// partition.
type storageCollector struct {
	mu     sync.RWMutex // held for reading during a collection
	engine *storage.Engine

	topics, partitions, size, diskBytes, liveBytes *prometheus.Desc
}

func newStorageCollector() *storageCollector {
	desc := func(subsystem, name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, name), help, labels, nil)
	}
	return &storageCollector{
		topics:     desc("storage", "topics", "Topics on the node."),
		partitions: desc("topic", "partitions", "Partitions of the topic.", "topic"),
		size:       desc("topic", "size_bytes", "Bytes of the record batches the topic's partitions hold, summed over its partitions.", "topic"),
		diskBytes:  desc("storage", "log_disk_bytes", "Bytes of the commit log's segment files."),
		liveBytes:  desc("storage", "log_live_bytes", "Bytes of the commit log's entries still live (the rest is reclaimed by the cleaner)."),
	}
}

func (c *storageCollector) watch(engine *storage.Engine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.engine = engine
}

// Describe implements prometheus.Collector.
func (c *storageCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.topics, c.partitions, c.size, c.diskBytes, c.liveBytes} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *storageCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.engine
	if e == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	topics := e.Topics()
	gauge(c.topics, float64(len(topics)))
	for _, t := range topics {
		var size int64
		for i := range t.Partitions {
			p, err := e.Partition(t.Name, i)
			if err != nil {
				break // deleted meanwhile
			}
			size += p.Offsets().Size
		}
		gauge(c.partitions, float64(t.Partitions), t.Name)
		gauge(c.size, float64(size), t.Name)
	}
	gauge(c.diskBytes, float64(e.DiskUsage()))
	gauge(c.liveBytes, float64(e.LiveBytes()))
}
