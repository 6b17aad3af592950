package kafkabench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicWait bounds how long setup waits for a topic's partitions to answer
// ListOffsets (a Kafka cluster may need a moment to elect the leaders of a
// new topic; Weir answers at once).
const topicWait = 30 * time.Second

// TopicInfo says which topic a run used and whether the run created it.
type TopicInfo struct {
	Name       string `json:"name"`
	Partitions int32  `json:"partitions"`
	Created    bool   `json:"created"`
}

// prepareTopic returns the partitions of topic, creating it with
// partitions partitions and rf replicas first when create is set and it
// does not exist.
func prepareTopic(ctx context.Context, cl *kgo.Client, topic string, partitions int32, rf int16, create bool) (TopicInfo, []int32, error) {
	info := TopicInfo{Name: topic}
	ids, err := topicPartitions(ctx, cl, topic)
	if errors.Is(err, kerr.UnknownTopicOrPartition) && create {
		resp, createErr := kadm.NewClient(cl).CreateTopic(ctx, partitions, rf, nil, topic)
		switch {
		case errors.Is(createErr, kerr.TopicAlreadyExists):
			// Created by someone else in the meantime: use it as it is.
		case createErr != nil:
			return info, nil, fmt.Errorf("create topic %s: %w %s", topic, createErr, resp.ErrMessage)
		default:
			info.Created = true
		}
		ids, err = topicPartitions(ctx, cl, topic)
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return info, nil, fmt.Errorf("topic %s does not exist", topic)
	}
	if err != nil {
		return info, nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	info.Partitions = int32(len(ids))
	return info, ids, nil
}

// topicPartitions returns the partitions of topic, sorted, asking the
// broker. (kadm's ListTopics answers from the client's metadata cache,
// which would remember for seconds that a topic just created did not
// exist.)
func topicPartitions(ctx context.Context, cl *kgo.Client, topic string) ([]int32, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return nil, err
		}
		ids := make([]int32, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			ids = append(ids, p.Partition)
		}
		slices.Sort(ids)
		if len(ids) == 0 {
			return nil, fmt.Errorf("topic %s has no partitions", topic)
		}
		return ids, nil
	}
	return nil, kerr.UnknownTopicOrPartition
}

// listOffsets returns the start (end false) or end offset of every
// partition of topic, retrying while a partition answers with an error,
// for at most topicWait.
func listOffsets(ctx context.Context, adm *kadm.Client, topic string, partitions []int32, end bool) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, topicWait)
	defer cancel()
	retry := time.NewTicker(100 * time.Millisecond)
	defer retry.Stop()
	for {
		offsets, err := tryListOffsets(ctx, adm, topic, partitions, end)
		if err == nil {
			return offsets, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("list offsets of %s: %w", topic, err)
		case <-retry.C:
		}
	}
}

func tryListOffsets(ctx context.Context, adm *kadm.Client, topic string, partitions []int32, end bool) (map[int32]int64, error) {
	var listed kadm.ListedOffsets
	var err error
	if end {
		listed, err = adm.ListEndOffsets(ctx, topic)
	} else {
		listed, err = adm.ListStartOffsets(ctx, topic)
	}
	if err != nil {
		return nil, err
	}
	out := make(map[int32]int64, len(partitions))
	for _, p := range partitions {
		o, ok := listed.Lookup(topic, p)
		switch {
		case !ok:
			return nil, fmt.Errorf("partition %d missing from the answer", p)
		case o.Err != nil:
			return nil, fmt.Errorf("partition %d: %w", p, o.Err)
		}
		out[p] = o.Offset
	}
	return out, nil
}
