package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startOffsets looks the topic up and picks the offset each partition is
// read from. Without --follow it also returns the end offsets to stop at,
// and leaves out the partitions that have nothing to read.
func startOffsets(ctx context.Context, cmd *cobra.Command, conn *connection, topic string, s consumeSettings) (map[int32]kgo.Offset, map[int32]int64, error) {
	cl, err := conn.client(ctx, cmd)
	if err != nil {
		return nil, nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := conn.withTimeout(ctx)
	defer cancel()
	partitions, err := topicPartitions(ctx, adm, topic, s.partition)
	if err != nil {
		return nil, nil, err
	}
	ranges, err := listOffsetRanges(ctx, adm, topic)
	if err != nil {
		return nil, nil, err
	}
	var listed kadm.ListedOffsets
	if s.from.kind == fromTime {
		if listed, err = adm.ListOffsetsAfterMilli(ctx, s.from.millis, topic); err != nil {
			return nil, nil, fmt.Errorf("list offsets by time: %w", err)
		}
	}
	starts := make(map[int32]kgo.Offset)
	ends := make(map[int32]int64)
	for _, p := range partitions {
		r := ranges[topic][p]
		atTime := int64(-1)
		if l, ok := listed.Lookup(topic, p); ok {
			if l.Err != nil {
				return nil, nil, partitionError("list offset by time of", topic, p, l.Err)
			}
			atTime = l.Offset
		}
		at := s.from.resolve(r, atTime)
		if !s.follow && at >= r.end {
			continue
		}
		starts[p] = kgo.NewOffset().At(at)
		ends[p] = r.end
	}
	return starts, ends, nil
}

// topicPartitions lists the partitions to read: all of the topic's, or the
// one asked for.
func topicPartitions(ctx context.Context, adm *kadm.Client, topic string, partition int32) ([]int32, error) {
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("look up topic %s: %w", topic, err)
	}
	d, ok := details[topic]
	if !ok {
		return nil, topicError("consume", topic, errTopicMissing, "")
	}
	if d.Err != nil {
		return nil, topicError("consume", topic, d.Err, "")
	}
	if partition < 0 {
		return d.Partitions.Numbers(), nil
	}
	if _, ok := d.Partitions[partition]; !ok {
		return nil, fmt.Errorf("topic %s has no partition %d (it has %s)", topic, partition, plural(len(d.Partitions), "partition"))
	}
	return []int32{partition}, nil
}
