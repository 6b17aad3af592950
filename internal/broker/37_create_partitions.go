package broker

// CreatePartitions (key 37), versions 0-3.
//
// Raises a topic's partition count to count. A count not above the
// current one is INVALID_PARTITIONS, an unknown topic
// UNKNOWN_TOPIC_OR_PARTITION, a topic named twice INVALID_REQUEST, and a
// manual assignment naming any node but this one (or more than one
// replica) INVALID_REPLICA_ASSIGNMENT. validate_only checks everything and
// changes nothing. Partitions are added durably before the answer.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/storage"
)

func (b *Broker) createPartitionsHandler() handler {
	return handler{key: kmsg.CreatePartitions.Int16(), min: 0, max: 3, serve: b.createPartitions}
}

func (b *Broker) createPartitions(_ context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	seen := make(map[string]int)
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		code, msg := b.checkAddPartitions(rt, seen[rt.Topic])
		if code == 0 && internalTopic(rt.Topic) {
			code, msg = errorCode(errInternalTopic), errInternalTopic.Error()
		}
		if code == 0 && !req.ValidateOnly {
			if err := b.engine.AddPartitions(rt.Topic, rt.Count); err != nil {
				code, msg = errorCode(err), err.Error()
			} else {
				b.logger.Info("partitions added", "topic", rt.Topic, "partitions", rt.Count)
			}
		}
		if code != 0 {
			st.ErrorCode, st.ErrorMessage = code, kmsg.StringPtr(msg)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// checkAddPartitions validates one topic of a request.
func (b *Broker) checkAddPartitions(rt kmsg.CreatePartitionsRequestTopic, times int) (int16, string) {
	if times > 1 {
		return kerr.InvalidRequest.Code, "the topic is named more than once"
	}
	info, err := b.engine.Topic(rt.Topic)
	if err != nil {
		return errorCode(err), err.Error()
	}
	if rt.Count <= info.Partitions {
		return kerr.InvalidPartitions.Code, fmt.Sprintf("topic %s has %d partitions; the new count must be higher, not %d", rt.Topic, info.Partitions, rt.Count)
	}
	if rt.Count > storage.MaxPartitionsPerTopic {
		return kerr.InvalidPartitions.Code, fmt.Sprintf("at most %d partitions per topic", storage.MaxPartitionsPerTopic)
	}
	if rt.Assignment != nil {
		if len(rt.Assignment) != int(rt.Count-info.Partitions) {
			return kerr.InvalidReplicaAssignment.Code, fmt.Sprintf("%d assignments for %d new partitions", len(rt.Assignment), rt.Count-info.Partitions)
		}
		for _, a := range rt.Assignment {
			if len(a.Replicas) != 1 || a.Replicas[0] != b.cfg.NodeID {
				return kerr.InvalidReplicaAssignment.Code, fmt.Sprintf("this node (%d) is the only replica", b.cfg.NodeID)
			}
		}
	}
	return 0, ""
}
