package flow

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// DefaultRepartitionPurgeInterval is Config.RepartitionPurgeInterval when
// zero (Kafka Streams' repartition.purge.interval.ms).
const DefaultRepartitionPurgeInterval = 30 * time.Second

// purgeTimeout bounds a purge's DeleteRecords request.
const purgeTimeout = 10 * time.Second

// purge deletes the records of repartition topics that the application
// has consumed and committed, as Kafka Streams does: the topics have no
// time retention (their records carry event times), so without it they
// would grow without end. It runs after a commit, at most once an
// interval, and deletes up to the group's committed offset of each
// repartition partition assigned to this instance (the partitions it
// reads: no other instance commits them). A failure is logged: the next
// purge tries again.
func (a *App) purge() {
	interval := a.cfg.RepartitionPurgeInterval
	if interval < 0 || len(a.repartitions) == 0 || time.Since(a.purgedAt) < interval {
		return
	}
	a.purgedAt = time.Now()
	offsets := make(kadm.Offsets)
	for topic, partitions := range a.client.CommittedOffsets() {
		if !a.repartitions[topic] {
			continue
		}
		for p, at := range partitions {
			if at.Offset > a.purged[topicPartition{topic, p}] {
				offsets.Add(kadm.Offset{Topic: topic, Partition: p, At: at.Offset})
			}
		}
	}
	if len(offsets) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(a.work, purgeTimeout)
	defer cancel()
	deleted, err := a.admin.DeleteRecords(ctx, offsets)
	if err != nil {
		a.logger.Warn("purging repartition topics", "err", err)
		return
	}
	deleted.Each(func(d kadm.DeleteRecordsResponse) {
		if d.Err != nil {
			a.logger.Warn("purging a repartition topic", "topic", d.Topic, "partition", d.Partition, "err", d.Err)
			return
		}
		a.purged[topicPartition{d.Topic, d.Partition}] = offsets[d.Topic][d.Partition].At
	})
}
