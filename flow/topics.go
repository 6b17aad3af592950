package flow

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
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
	if a.batch != nil {
		a.batch.subPartitions = counts
	}
	type internal struct {
		partitions int32
		configs    map[string]*string
	}
	create := map[string]internal{}
	compact, forever := "compact", "-1"
	for _, n := range top.nodes {
		if n.kind == kindRepartitionSink {
			// Records keep their event times through a repartition
			// topic: with the broker's time retention, reprocessing
			// old input would see them deleted before they are read.
			create[RepartitionTopic(app, n.sinkTopic)] = internal{counts[n.children[0].sub], map[string]*string{"retention.ms": &forever}}
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
