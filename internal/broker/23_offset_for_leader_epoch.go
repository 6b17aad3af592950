package broker

// OffsetForLeaderEpoch (key 23), versions 0-4.
//
// Consumers ask it to detect log truncation after a leader change. A
// single node has had one leader epoch, 0, for every partition, as
// Metadata reports and every stored batch carries: the end offset of
// epoch 0 is the end of what consumers may read (the high watermark), and
// any other epoch is unknown (epoch -1, offset -1, as Kafka answers for an
// epoch it has not seen, and for -1). A current_leader_epoch (version 2+) above 0 is
// UNKNOWN_LEADER_EPOCH; -1 skips the check. An unknown topic or partition
// is UNKNOWN_TOPIC_OR_PARTITION.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) offsetForLeaderEpochHandler() handler {
	return handler{key: kmsg.OffsetForLeaderEpoch.Int16(), min: 0, max: 4, serve: b.offsetForLeaderEpoch}
}

func (b *Broker) offsetForLeaderEpoch(_ context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition, sp.LeaderEpoch, sp.EndOffset = rp.Partition, -1, -1
			p, err := b.engine.Partition(rt.Topic, rp.Partition)
			switch {
			case err != nil:
				sp.ErrorCode = errorCode(err)
			case req.Version >= 2 && rp.CurrentLeaderEpoch > 0:
				sp.ErrorCode = kerr.UnknownLeaderEpoch.Code
			case rp.LeaderEpoch == 0:
				sp.LeaderEpoch, sp.EndOffset = 0, p.Offsets().HighWatermark
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
