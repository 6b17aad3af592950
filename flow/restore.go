package flow

// Restoring stores from their changelogs.
//
// A task's stores are restored, when the task starts on an instance, from
// the offsets of their checkpoint (or from the changelogs' start when the
// local state is missing or wiped) to the end of their changelog
// partitions; standby replicas (standby.go) read the same partitions as
// they grow. Both read through a changelogReader, which sends Fetch
// requests of its own rather than running a consumer: after each response
// it knows the offset to fetch next, past transaction markers, records of
// aborted transactions and offsets that compaction emptied, which a
// consumer does not tell. So a restore ends by position: when the next
// offset reaches the end it set out for, whether or not a record sits at
// end-1 (compaction may have removed it, or it is a marker).
//
// The end is the high watermark when the restore starts, not the last
// stable offset: a transaction left open by an instance killed mid-way
// holds that back while the next owner of the task commits changes after
// it, which the owner after that must restore too. Reading past the open
// transaction waits until the coordinator aborts it (the transaction
// timeout).

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicPartition names a partition of a topic.
type topicPartition struct {
	topic     string
	partition int32
}

func (tp topicPartition) String() string { return fmt.Sprintf("%s/%d", tp.topic, tp.partition) }

// Sizes of the changelog reader's fetches.
const (
	fetchMaxBytes          = 32 << 20
	fetchPartitionMaxBytes = 8 << 20
)

// changelogReader reads changelog partitions with read_committed Fetch
// requests sent to their leaders. One goroutine uses it at a time.
type changelogReader struct {
	cl           *kgo.Client
	admin        *kadm.Client
	decompressor kgo.Decompressor
	// meta holds the topics' ids and partition leaders; stale says a
	// response found a leader moved, and meta is loaded again.
	meta  map[string]kadm.TopicDetail
	stale atomic.Bool
}

// outOfRangeError says a changelog partition no longer holds the offset
// asked for (records were deleted before it, or the topic was recreated
// shorter): the store's state cannot be brought up to date from there.
type outOfRangeError struct{ tp topicPartition }

func (e *outOfRangeError) Error() string {
	return fmt.Sprintf("changelog %s: offset out of range", e.tp)
}

// partitionFetch is what one fetch gave of a partition.
type partitionFetch struct {
	// records are the committed data records, in order.
	records []*kgo.Record
	// next is the offset to fetch next: past every record, marker and
	// aborted record the response held.
	next int64
	// empty says the response held no batch: nothing readable lies
	// between the offset fetched and lastStable, the partition's last
	// stable offset.
	empty      bool
	lastStable int64
}

func newChangelogReader(brokers []string) (*changelogReader, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	return &changelogReader{cl: cl, admin: kadm.NewClient(cl), decompressor: kgo.DefaultDecompressor(),
		meta: make(map[string]kadm.TopicDetail)}, nil
}

func (r *changelogReader) close() { r.cl.Close() }

// fetch reads the partitions from their offsets, waiting up to maxWait
// for records when there are none yet. A partition whose leader is not
// known or has moved is left out of the answer, to be fetched again.
func (r *changelogReader) fetch(ctx context.Context, from map[topicPartition]int64, maxWait time.Duration) (map[topicPartition]partitionFetch, error) {
	if err := r.loadMeta(ctx, from); err != nil {
		return nil, err
	}
	byLeader := map[int32][]topicPartition{}
	for tp := range from {
		leader := int32(-1)
		if d, ok := r.meta[tp.topic]; ok {
			if p, ok := d.Partitions[tp.partition]; ok && p.Err == nil {
				leader = p.Leader
			}
		}
		if leader < 0 {
			r.stale.Store(true)
			continue
		}
		byLeader[leader] = append(byLeader[leader], tp)
	}
	if len(byLeader) == 0 {
		// No leader known yet: wait a little before asking again.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
			return nil, nil
		}
	}
	var (
		mu   sync.Mutex
		out  = make(map[topicPartition]partitionFetch, len(from))
		errs []error
		wg   sync.WaitGroup
	)
	for leader, tps := range byLeader {
		wg.Go(func() {
			got, err := r.fetchFrom(ctx, leader, tps, from, maxWait)
			mu.Lock()
			defer mu.Unlock()
			maps.Copy(out, got)
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if len(errs) == 0 && len(out) < len(from) && r.stale.Load() {
		// Some leaders moved, or answered with an error to retry:
		// wait a little before asking again.
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return out, errors.Join(errs...)
}

// loadMeta loads the ids and leaders of the topics of from, if some are
// not known or a leader has moved.
func (r *changelogReader) loadMeta(ctx context.Context, from map[topicPartition]int64) error {
	missing := r.stale.Load()
	topics := map[string]bool{}
	for tp := range from {
		topics[tp.topic] = true
		if _, ok := r.meta[tp.topic]; !ok {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	for topic := range r.meta {
		topics[topic] = true
	}
	md, err := r.admin.Metadata(ctx, slices.Sorted(maps.Keys(topics))...)
	if err != nil {
		return fmt.Errorf("changelog metadata: %w", err)
	}
	r.stale.Store(false)
	for topic := range topics {
		if d, ok := md.Topics[topic]; ok && d.Err == nil {
			r.meta[topic] = d
		} else {
			delete(r.meta, topic)
		}
	}
	return nil
}

// fetchFrom sends one Fetch request to a leader for its partitions.
func (r *changelogReader) fetchFrom(ctx context.Context, leader int32, tps []topicPartition, from map[topicPartition]int64, maxWait time.Duration) (map[topicPartition]partitionFetch, error) {
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis = int32(maxWait.Milliseconds())
	req.MinBytes, req.MaxBytes = 1, fetchMaxBytes
	req.IsolationLevel = 1 // read_committed
	byTopic := map[string][]topicPartition{}
	for _, tp := range tps {
		byTopic[tp.topic] = append(byTopic[tp.topic], tp)
	}
	byID := map[[16]byte]string{}
	for _, topic := range slices.Sorted(maps.Keys(byTopic)) {
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = topic, r.meta[topic].ID
		byID[rt.TopicID] = topic
		for _, tp := range byTopic[topic] {
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = tp.partition, from[tp], fetchPartitionMaxBytes
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	kresp, err := r.cl.Broker(int(leader)).RetriableRequest(ctx, req)
	if err != nil {
		r.stale.Store(true)
		return nil, fmt.Errorf("fetch changelogs from broker %d: %w", leader, err)
	}
	resp := kresp.(*kmsg.FetchResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, fmt.Errorf("fetch changelogs from broker %d: %w", leader, err)
	}
	out := make(map[topicPartition]partitionFetch, len(tps))
	for i := range resp.Topics {
		rt := &resp.Topics[i]
		topic := rt.Topic
		if topic == "" {
			topic = byID[rt.TopicID]
		}
		for j := range rt.Partitions {
			rp := &rt.Partitions[j]
			tp := topicPartition{topic, rp.Partition}
			offset, asked := from[tp]
			if !asked {
				continue
			}
			fp, next := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{
				Offset: offset, IsolationLevel: kgo.ReadCommitted(), Topic: topic, Partition: rp.Partition,
			}, rp, r.decompressor, nil)
			switch {
			case fp.Err == nil:
			case errors.Is(fp.Err, kerr.OffsetOutOfRange):
				return out, &outOfRangeError{tp: tp}
			case kerr.IsRetriable(fp.Err) || errors.Is(fp.Err, kerr.NotLeaderForPartition):
				r.stale.Store(true)
				continue
			default:
				return out, fmt.Errorf("fetch changelog %s: %w", tp, fp.Err)
			}
			out[tp] = partitionFetch{records: fp.Records, next: max(next, offset),
				empty: len(rp.RecordBatches) == 0, lastStable: rp.LastStableOffset}
		}
	}
	return out, nil
}

// restoring is the restore of one store of a task: the records of its
// changelog partition from start to end.
type restoring struct {
	state      *taskState
	store      string
	tp         topicPartition
	start, end int64
	// next is the offset to fetch next; restored counts the records
	// applied.
	next     int64
	restored int64
	began    time.Time
}

// restoreMaxWait is how long a restore's fetch waits for records: only
// while a transaction left open holds the last stable offset back.
const restoreMaxWait = 500 * time.Millisecond

// restore brings the stores up to the ends of their changelog
// partitions, and sets their tasks' positions. All the partitions are
// read together, one Fetch request per leader.
func (a *App) restore(ctx context.Context, all []*restoring) error {
	pending := make(map[topicPartition]*restoring, len(all))
	for _, r := range all {
		r.next, r.began = r.start, time.Now()
		a.logger.Info("restoring store", "task", r.state.id.String(), "store", r.store, "changelog", r.tp.String(), "from", r.start, "to", r.end)
		a.reportRestore(r, false)
		if r.next >= r.end {
			a.restored(r)
			continue
		}
		pending[r.tp] = r
	}
	for len(pending) > 0 {
		from := make(map[topicPartition]int64, len(pending))
		for tp, r := range pending {
			from[tp] = r.next
		}
		got, err := a.restorer.fetch(ctx, from, restoreMaxWait)
		if err != nil {
			return err
		}
		for tp, f := range got {
			r := pending[tp]
			if err := r.apply(f); err != nil {
				return fmt.Errorf("flow: restore %s of task %s from %s: %w", r.store, r.state.id, tp, err)
			}
			if len(f.records) > 0 {
				a.logger.Debug("store restore batch", "task", r.state.id.String(), "store", r.store, "records", len(f.records), "next", r.next)
				a.reportRestore(r, false)
			}
			if r.next >= r.end {
				a.restored(r)
				delete(pending, tp)
			}
		}
	}
	return nil
}

// apply applies a fetch's records to the store and moves the restore on.
func (r *restoring) apply(f partitionFetch) error {
	s := r.state.stores[r.store]
	for _, rec := range f.records {
		if err := s.restore(rec.Key, rec.Value, rec.Timestamp.UnixMilli()); err != nil {
			return err
		}
	}
	r.restored += int64(len(f.records))
	r.next = max(r.next, f.next)
	if f.empty && f.lastStable >= r.end {
		// Nothing readable up to the end: the records before it were
		// compacted away, or are markers and aborted records.
		r.next = max(r.next, r.end)
	}
	return nil
}

// restored ends a store's restore: its task's position moves to where
// the restore stopped.
func (a *App) restored(r *restoring) {
	if r.next != r.state.positions[r.store] {
		r.state.positions[r.store] = r.next
		r.state.saved = r.state.saved && r.state.memory[r.store]
	}
	a.metrics.restoredRecords(r.store, int(r.restored))
	a.logger.Info("store restored", "task", r.state.id.String(), "store", r.store, "changelog", r.tp.String(),
		"from", r.start, "to", r.next, "records", r.restored, "took", time.Since(r.began))
	a.reportRestore(r, true)
}

// reportRestore tells Config.OnRestore.
func (a *App) reportRestore(r *restoring, done bool) {
	if a.cfg.OnRestore == nil {
		return
	}
	a.cfg.OnRestore(RestoreProgress{Task: r.state.id.String(), Store: r.store, Topic: r.tp.topic, Partition: r.tp.partition,
		StartOffset: r.start, EndOffset: r.end, Restored: r.restored, Done: done})
}
