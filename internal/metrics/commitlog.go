package metrics

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weir-io/weir/internal/storage/commitlog"
)

// logObserver is the commitlog.Observer of Metrics.
type logObserver struct {
	ready        *Readiness
	fsync        prometheus.Histogram
	fsyncBytes   prometheus.Histogram
	fsyncErrors  prometheus.Counter
	groupEntries prometheus.Histogram
	groupBytes   prometheus.Histogram
}

var _ commitlog.Observer = (*logObserver)(nil)

func newLogObserver(ready *Readiness) *logObserver {
	histogram := func(name, help string, buckets []float64) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "commitlog", Name: name, Help: help, Buckets: buckets,
		})
	}
	return &logObserver{
		ready: ready,
		// 50 µs to 3.3 s.
		fsync: histogram("fsync_duration_seconds",
			"Time of one round of commit log fsyncs (one fsync, two across a segment rollover).",
			prometheus.ExponentialBuckets(0.00005, 2, 17)),
		// 512 B to 2 GiB.
		fsyncBytes: histogram("fsync_bytes",
			"Bytes of the commit log made durable by one round of fsyncs: the group commit's batch.",
			prometheus.ExponentialBuckets(512, 4, 12)),
		fsyncErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "commitlog", Name: "fsync_errors_total",
			Help: "Failed fsyncs of the commit log; after one the node refuses writes until restarted.",
		}),
		// 1 to 8192.
		groupEntries: histogram("write_group_entries",
			"Appends written together by one write group.",
			prometheus.ExponentialBuckets(1, 2, 14)),
		// 64 B to 256 MiB.
		groupBytes: histogram("write_group_bytes",
			"Bytes written by one write group, entry headers included.",
			prometheus.ExponentialBuckets(64, 4, 12)),
	}
}

func (o *logObserver) register(r *prometheus.Registry) {
	r.MustRegister(o.fsync, o.fsyncBytes, o.fsyncErrors, o.groupEntries, o.groupBytes)
}

// WroteGroup records a write group's size.
func (o *logObserver) WroteGroup(entries, bytes int) {
	o.groupEntries.Observe(float64(entries))
	o.groupBytes.Observe(float64(bytes))
}

// Synced records a round of fsyncs; a failed one also makes the node not
// ready.
func (o *logObserver) Synced(d time.Duration, bytes uint64, err error) {
	o.fsync.Observe(d.Seconds())
	if err != nil {
		o.fsyncErrors.Inc()
		o.ready.Set(CommitLog, fmt.Errorf("fsync failed, writes refused until restart: %w", err))
		return
	}
	o.fsyncBytes.Observe(float64(bytes))
}
