package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// topicScope is one topic named with --topic, and the partitions named
// after it ("orders:0,1"); nil partitions: all of the topic's.
type topicScope struct {
	topic      string
	partitions []int32
}

// parseTopicScopes parses --topic values, "TOPIC" or "TOPIC:P,P,...". A
// topic named twice takes the union of its partitions (all, if it is once
// named alone). Topic names cannot hold a colon, so the first one ends the
// name.
func parseTopicScopes(values []string) ([]topicScope, error) {
	var scopes []topicScope
	index := make(map[string]int)
	for _, v := range values {
		topic, list, hasList := strings.Cut(v, ":")
		if topic == "" {
			return nil, fmt.Errorf("--topic %q: want TOPIC or TOPIC:PARTITION,PARTITION,...", v)
		}
		var partitions []int32
		if hasList {
			for p := range strings.SplitSeq(list, ",") {
				n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("--topic %q: partition %q is not a partition number", v, p)
				}
				partitions = append(partitions, int32(n))
			}
		}
		i, seen := index[topic]
		switch {
		case !seen:
			index[topic] = len(scopes)
			scopes = append(scopes, topicScope{topic, partitions})
		case scopes[i].partitions == nil || partitions == nil:
			scopes[i].partitions = nil
		default:
			scopes[i].partitions = append(scopes[i].partitions, partitions...)
		}
	}
	for i := range scopes {
		slices.Sort(scopes[i].partitions)
		scopes[i].partitions = slices.Compact(scopes[i].partitions)
	}
	return scopes, nil
}

// scopeTopics returns the topics of scopes.
func scopeTopics(scopes []topicScope) []string {
	topics := make([]string, len(scopes))
	for i, s := range scopes {
		topics[i] = s.topic
	}
	return topics
}

// listPartitions returns the partitions of each topic that exists; a topic
// that does not is left out.
func listPartitions(ctx context.Context, adm *kadm.Client, topics []string) (map[string][]int32, error) {
	partitions := make(map[string][]int32)
	if len(topics) == 0 {
		return partitions, nil
	}
	details, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("look up topics: %w", err)
	}
	for _, d := range details {
		switch {
		case errors.Is(d.Err, kerr.UnknownTopicOrPartition):
		case d.Err != nil:
			return nil, topicError("look up", d.Topic, d.Err, "")
		default:
			partitions[d.Topic] = d.Partitions.Numbers()
		}
	}
	return partitions, nil
}

// resolveResetScope returns the partitions whose offsets reset-offsets
// sets, in topic and partition order: those named by scopes, which must
// exist (existing holds each existing topic's partitions), or with
// allTopics every partition the group has committed an offset for (as
// kafka-consumer-groups.sh --all-topics).
func resolveResetScope(scopes []topicScope, allTopics bool, existing map[string][]int32, committed map[topicPartition]int64) ([]topicPartition, error) {
	if allTopics {
		if len(committed) == 0 {
			return nil, errors.New("the group has no committed offsets: name the topics with --topic")
		}
		return sortedPartitions(committed), nil
	}
	set := make(map[topicPartition]bool)
	for _, s := range scopes {
		have, ok := existing[s.topic]
		if !ok {
			return nil, topicError("reset offsets of", s.topic, kerr.UnknownTopicOrPartition, "")
		}
		want := s.partitions
		if want == nil {
			want = have
		}
		for _, p := range want {
			if !slices.Contains(have, p) {
				return nil, fmt.Errorf("topic %s has no partition %d (it has %s)", s.topic, p, plural(len(have), "partition"))
			}
			set[topicPartition{s.topic, p}] = true
		}
	}
	return sortedPartitions(set), nil
}

// resolveDeleteScope returns the partitions whose offsets delete-offsets
// deletes, in topic and partition order. A topic named alone stands for
// its partitions and those the group has offsets for: the topic may have
// been deleted, its offsets not. Partitions named are taken as they are.
func resolveDeleteScope(scopes []topicScope, existing map[string][]int32, committed map[topicPartition]int64) ([]topicPartition, error) {
	set := make(map[topicPartition]bool)
	for _, s := range scopes {
		if s.partitions != nil {
			for _, p := range s.partitions {
				set[topicPartition{s.topic, p}] = true
			}
			continue
		}
		n := len(set)
		for _, p := range existing[s.topic] {
			set[topicPartition{s.topic, p}] = true
		}
		for tp := range committed {
			if tp.topic == s.topic {
				set[tp] = true
			}
		}
		if len(set) == n {
			return nil, fmt.Errorf("topic %s does not exist and the group has no offsets for it", s.topic)
		}
	}
	return sortedPartitions(set), nil
}
