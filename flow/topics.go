package flow

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// setUpTopics checks the input topics and creates the internal ones:
// every sub-topology's input topics must have the same number of
// partitions (co-partitioning: partition p of each meets in task p); a
// repartition topic has the number its operator asked for (Partitions) or
// that of the sub-topology writing it; a store's changelog topic
// (compacted) has that of its sub-topology.
func (a *App) setUpTopics(ctx context.Context) error {
	top, app := a.top, a.cfg.ApplicationID
	var external []string
	for _, n := range top.nodes {
		if !n.repartition {
			external = append(external, n.topics...)
		}
	}
	details, err := a.admin.ListTopics(ctx, external...)
	if err != nil {
		return fmt.Errorf("flow: list topics: %w", err)
	}
	subs := top.subTopologies()
	counts := make([]int32, subs)
	for _, n := range top.nodes {
		if n.repartition {
			continue
		}
		for _, topic := range n.topics {
			d, ok := details[topic]
			if !ok || d.Err != nil {
				return fmt.Errorf("flow: input topic %s: %v", topic, errors.Join(d.Err, errMissing(ok)))
			}
			p := int32(len(d.Partitions))
			if counts[n.sub] != 0 && counts[n.sub] != p {
				return fmt.Errorf("flow: the input topics of sub-topology %d are not co-partitioned: %s has %d partitions, others %d", n.sub, topic, p, counts[n.sub])
			}
			counts[n.sub] = p
		}
	}
	// Repartition topics take their count from the sub-topology that
	// writes them, which may itself read a repartition topic: resolve
	// until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, n := range top.nodes {
			if n.kind != kindRepartitionSink {
				continue
			}
			src := n.children[0]
			want := n.partitions
			if want == 0 {
				want = counts[n.sub]
			}
			if want != 0 && counts[src.sub] == 0 {
				counts[src.sub] = want
				changed = true
			}
		}
	}
	type internal struct {
		partitions int32
		configs    map[string]*string
	}
	create := map[string]internal{}
	compact := "compact"
	for _, n := range top.nodes {
		if n.kind == kindRepartitionSink {
			create[RepartitionTopic(app, n.sinkTopic)] = internal{counts[n.children[0].sub], nil}
		}
	}
	for _, s := range top.stores {
		if s.logged {
			create[ChangelogTopic(app, s.name)] = internal{counts[s.sub], map[string]*string{"cleanup.policy": &compact}}
		}
	}
	for topic, c := range create {
		if c.partitions <= 0 {
			return fmt.Errorf("flow: cannot tell how many partitions %s needs", topic)
		}
		resp, err := a.admin.CreateTopic(ctx, c.partitions, -1, c.configs, topic)
		if err == nil {
			err = resp.Err
		}
		if errors.Is(err, kerr.TopicAlreadyExists) {
			d, lerr := a.admin.ListTopics(ctx, topic)
			if lerr != nil {
				return lerr
			}
			if got := int32(len(d[topic].Partitions)); got != c.partitions {
				return fmt.Errorf("flow: internal topic %s has %d partitions, want %d", topic, got, c.partitions)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("flow: create internal topic %s: %w", topic, err)
		}
	}
	return nil
}

func errMissing(ok bool) error {
	if ok {
		return nil
	}
	return errors.New("does not exist")
}

// restore fills the task's logged stores from their changelog partitions,
// read with read_committed from the start to the high watermark. Not to
// the last stable offset: a transaction left open by an instance killed
// mid-way holds that back while the next owner of the task commits
// changes after it, which the owner after that must restore too. Reading
// past the open transaction waits until the coordinator aborts it (the
// transaction timeout).
func (a *App) restore(ctx context.Context, t *task) error {
	started := time.Now()
	topics := map[string]string{} // changelog topic -> store
	for name, s := range t.stores {
		if s.def.logged {
			topics[ChangelogTopic(a.cfg.ApplicationID, name)] = name
		}
	}
	if len(topics) == 0 {
		return nil
	}
	names := slices.Sorted(maps.Keys(topics))
	ends, err := a.admin.ListEndOffsets(ctx, names...)
	if err != nil {
		return fmt.Errorf("flow: changelogs of task %s: %w", t.id, err)
	}
	starts, err := a.admin.ListStartOffsets(ctx, names...)
	if err != nil {
		return fmt.Errorf("flow: changelogs of task %s: %w", t.id, err)
	}
	for _, topic := range names {
		name := topics[topic]
		end, ok := ends.Lookup(topic, t.id.partition)
		if !ok || end.Err != nil {
			return fmt.Errorf("flow: changelog %s/%d: end offset: %v", topic, t.id.partition, end.Err)
		}
		start, _ := starts.Lookup(topic, t.id.partition)
		if start.Offset >= end.Offset {
			continue
		}
		n, err := restorePartition(ctx, a.cfg.Brokers, topic, t.id.partition, end.Offset, t.stores[name])
		if err != nil {
			return fmt.Errorf("flow: restore %s from %s/%d: %w", name, topic, t.id.partition, err)
		}
		a.metrics.restoredRecords(name, n)
		a.logger.Info("store restored", "task", t.id.String(), "store", name, "records", n, "took", time.Since(started))
	}
	return nil
}

// restorePartition applies a changelog partition's committed records up
// to end (exclusive) to s. Control records (transaction markers) are read
// too, for their offsets: they may be the last before end.
func restorePartition(ctx context.Context, brokers []string, topic string, partition int32, end int64, s *taskStore) (int, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().AtStart()}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	n := 0
	for {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err0(); err != nil {
			return n, err
		}
		done := false
		var applyErr error
		fetches.EachRecord(func(r *kgo.Record) {
			if applyErr != nil || r.Offset >= end {
				done = done || r.Offset >= end-1
				return
			}
			if !r.Attrs.IsControl() {
				applyErr = s.restore(r.Key, r.Value, r.Timestamp.UnixMilli())
				n++
			}
			if r.Offset >= end-1 {
				done = true
			}
		})
		if applyErr != nil {
			return n, applyErr
		}
		if done {
			return n, nil
		}
	}
}
