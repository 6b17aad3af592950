package broker

// DeleteRecords (key 21), versions 0-2.
//
// Moves each partition's log start offset up to the given offset (-1: the
// high watermark) and answers with the new low watermark once the change
// is durable. Batches wholly below it are deleted; fetches start at the
// new log start even inside a batch. An offset above the high watermark is
// OFFSET_OUT_OF_RANGE; an unknown topic or partition
// UNKNOWN_TOPIC_OR_PARTITION; a topic whose cleanup.policy lacks delete
// POLICY_VIOLATION, as on Kafka. A partition whose change is not durable
// within the timeout is REQUEST_TIMED_OUT (the change stands, as on a
// Kafka leader). Deletion works on a full disk.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) deleteRecordsHandler() handler {
	return handler{key: kmsg.DeleteRecords.Int16(), min: 0, max: 2, serve: b.deleteRecords}
}

func (b *Broker) deleteRecords(ctx context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	ctx, cancel := context.WithTimeout(ctx, time.Duration(max(req.TimeoutMillis, 0))*time.Millisecond)
	defer cancel()
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition, sp.LowWatermark = rp.Partition, -1
			start, err := b.deleteRecordsOf(ctx, rt.Topic, rp.Partition, rp.Offset)
			switch {
			case err == nil:
				sp.LowWatermark = start
			case errors.Is(err, context.DeadlineExceeded):
				sp.ErrorCode = kerr.RequestTimedOut.Code
			default:
				sp.ErrorCode = errorCode(err)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

func (b *Broker) deleteRecordsOf(ctx context.Context, topic string, partition int32, offset int64) (int64, error) {
	if internalTopic(topic) {
		return 0, errInternalTopic
	}
	p, err := b.engine.Partition(topic, partition)
	if err != nil {
		return 0, err
	}
	return p.DeleteRecords(ctx, offset)
}
