package cli

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
)

// offsetRange is a partition's log start offset (its first record still
// kept) and log end offset (the offset the next record will get).
type offsetRange struct {
	start, end int64
}

// listOffsetRanges lists the start and end offsets of every partition of
// topics, by topic and partition.
func listOffsetRanges(ctx context.Context, adm *kadm.Client, topics ...string) (map[string]map[int32]offsetRange, error) {
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	ranges := make(map[string]map[int32]offsetRange)
	var firstErr error
	starts.Each(func(s kadm.ListedOffset) {
		e, ok := ends.Lookup(s.Topic, s.Partition)
		switch {
		case firstErr != nil:
		case s.Err != nil:
			firstErr = partitionError("list start offset of", s.Topic, s.Partition, s.Err)
		case !ok:
			firstErr = fmt.Errorf("list end offset of topic %s partition %d: no answer", s.Topic, s.Partition)
		case e.Err != nil:
			firstErr = partitionError("list end offset of", e.Topic, e.Partition, e.Err)
		default:
			if ranges[s.Topic] == nil {
				ranges[s.Topic] = make(map[int32]offsetRange)
			}
			ranges[s.Topic][s.Partition] = offsetRange{s.Offset, e.Offset}
		}
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return ranges, nil
}

// partitionError describes an error about one partition of a topic.
func partitionError(action, topic string, partition int32, err error) error {
	if partition < 0 { // kadm's marker for a topic-level error
		return topicError(action, topic, err, "")
	}
	return &kafkaError{fmt.Sprintf("%s topic %s partition %d: %s", action, topic, partition, describeError(err, "")), err}
}
