package metrics

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weir-io/weir/internal/group"
	"github.com/weir-io/weir/internal/storage"
)

// GroupSource tells what the node's consumer groups are: the group
// coordinator (*group.Coordinator) is one.
type GroupSource interface {
	// Summaries returns every group the node coordinates, with its
	// committed offsets. It is called once per scrape.
	Summaries() []group.Summary
}

// WatchGroups makes scrapes report the consumer groups src summarizes:
// members, state, rebalances, committed offsets, and their lag against the
// high watermarks of engine's partitions (no lag when engine is nil).
// WatchGroups(nil, nil) stops that, waiting for a scrape in progress: call
// it before closing the engine or stopping the coordinator.
func (m *Metrics) WatchGroups(src GroupSource, engine *storage.Engine) {
	m.groups.watch(src, engine)
}

// groupCollector reads the groups' summaries when scraped and reports a
// few series per group, plus a committed offset and a lag per partition
// the group has committed an offset for. That is the one exception to
// "nothing per partition": the series are as many as the offsets the
// coordinator keeps anyway, and lag is what groups are watched for.
type groupCollector struct {
	mu     sync.RWMutex // held for reading during a collection
	source GroupSource
	engine *storage.Engine

	groups, members, state, rebalances, committed, lag *prometheus.Desc
}

func newGroupCollector() *groupCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
	}
	return &groupCollector{
		groups:     desc("groups", "Consumer groups on the node, by type and state.", "type", "state"),
		members:    desc("group_members", "Members of the group.", "group"),
		state:      desc("group_state", "Always 1; the labels tell the group's type and current state.", "group", "type", "state"),
		rebalances: desc("group_rebalances_total", "Rebalances the group completed since the node started (new generations or group epochs).", "group"),
		committed:  desc("group_committed_offset", "The group's committed offset in the partition.", "group", "topic", "partition"),
		lag:        desc("group_lag", "The partition's high watermark less the group's committed offset, never negative.", "group", "topic", "partition"),
	}
}

func (c *groupCollector) watch(src GroupSource, engine *storage.Engine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.source, c.engine = src, engine
}

// Describe implements prometheus.Collector.
func (c *groupCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.groups, c.members, c.state, c.rebalances, c.committed, c.lag} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *groupCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.source == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	type typeState struct{ typ, state string }
	counts := make(map[typeState]int)
	for _, s := range c.source.Summaries() {
		counts[typeState{s.Type, s.State}]++
		gauge(c.members, float64(s.Members), s.Group)
		gauge(c.state, 1, s.Group, s.Type, s.State)
		ch <- prometheus.MustNewConstMetric(c.rebalances, prometheus.CounterValue, float64(s.Rebalances), s.Group)
		for _, o := range s.Offsets {
			partition := strconv.Itoa(int(o.Partition))
			gauge(c.committed, float64(o.Offset), s.Group, o.Topic, partition)
			if hw, ok := c.highWatermark(o.Topic, o.Partition); ok {
				gauge(c.lag, float64(max(hw-o.Offset, 0)), s.Group, o.Topic, partition)
			}
		}
	}
	for ts, n := range counts {
		gauge(c.groups, float64(n), ts.typ, ts.state)
	}
}

// highWatermark returns the partition's high watermark, and false when
// there is no engine or no such partition (a topic deleted since the
// commit): its lag is then not reported.
func (c *groupCollector) highWatermark(topic string, partition int32) (int64, bool) {
	if c.engine == nil {
		return 0, false
	}
	p, err := c.engine.Partition(topic, partition)
	if err != nil {
		return 0, false
	}
	return p.Offsets().HighWatermark, true
}
