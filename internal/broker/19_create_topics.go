package broker

// CreateTopics (key 19), versions 2-7.
//
// Creates topics with a partition count (-1: the node's default) and
// configs (Kafka's topic configs, validated as Kafka does: an unknown name
// or a bad value is INVALID_CONFIG). On a single node the replication
// factor must be -1 or 1 (else INVALID_REPLICATION_FACTOR), and a manual
// replica assignment may only name this node (else
// INVALID_REPLICA_ASSIGNMENT). validate_only
// checks everything and creates nothing. Errors per topic:
// TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS. From
// version 5 the response carries the partition count, replication factor
// and configs of each new topic; from version 7 its id.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/meta"
	"github.com/weir-io/weir/internal/storage"
)

func (b *Broker) createTopicsHandler() handler {
	return handler{key: kmsg.CreateTopics.Int16(), min: 2, max: 7, serve: b.createTopics}
}

func (b *Broker) createTopics(_ context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		partitions, config, code, msg := b.checkCreate(rt)
		if code == 0 {
			if req.ValidateOnly {
				if _, err := b.engine.Topic(rt.Topic); err == nil {
					code, msg = kerr.TopicAlreadyExists.Code, "topic "+rt.Topic+" exists"
				}
			} else if info, err := b.engine.CreateTopic(rt.Topic, partitions, config); err != nil {
				code, msg = errorCode(err), err.Error()
			} else {
				st.TopicID = info.ID
				b.logger.Info("topic created", "topic", rt.Topic, "partitions", partitions)
			}
		}
		st.ErrorCode = code
		if code != 0 {
			st.ErrorMessage = kmsg.StringPtr(msg)
			st.NumPartitions, st.ReplicationFactor = -1, -1
		} else {
			st.NumPartitions, st.ReplicationFactor = partitions, 1
			st.Configs = b.createdConfigs(config)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// checkCreate validates one topic of a request and returns its partition
// count and configs, or an error code and message.
func (b *Broker) checkCreate(rt kmsg.CreateTopicsRequestTopic) (int32, storage.TopicConfig, int16, string) {
	if err := storage.ValidTopicName(rt.Topic); err != nil {
		return 0, storage.TopicConfig{}, errorCode(err), err.Error()
	}
	partitions := rt.NumPartitions
	if len(rt.ReplicaAssignment) > 0 {
		if partitions != -1 || rt.ReplicationFactor != -1 {
			return 0, storage.TopicConfig{}, kerr.InvalidRequest.Code, "a replica assignment excludes a partition count and a replication factor"
		}
		for _, a := range rt.ReplicaAssignment {
			if len(a.Replicas) != 1 || a.Replicas[0] != b.cfg.NodeID {
				return 0, storage.TopicConfig{}, kerr.InvalidReplicaAssignment.Code, fmt.Sprintf("partition %d: this node (%d) is the only replica", a.Partition, b.cfg.NodeID)
			}
		}
		partitions = int32(len(rt.ReplicaAssignment))
	}
	if partitions == -1 {
		partitions = b.cfg.DefaultPartitions
	}
	if partitions <= 0 {
		return 0, storage.TopicConfig{}, kerr.InvalidPartitions.Code, fmt.Sprintf("%d partitions", partitions)
	}
	if rt.ReplicationFactor != -1 && rt.ReplicationFactor != 1 && len(rt.ReplicaAssignment) == 0 {
		return 0, storage.TopicConfig{}, kerr.InvalidReplicationFactor.Code, fmt.Sprintf("replication factor %d on a single node", rt.ReplicationFactor)
	}
	configs := make(map[string]string)
	for _, c := range rt.Configs {
		if c.Value == nil {
			continue
		}
		configs[c.Name] = *c.Value
	}
	configs, err := meta.NormalizeTopicConfigs(configs)
	if err != nil {
		return 0, storage.TopicConfig{}, errorCode(err), err.Error()
	}
	config, err := b.engine.TopicDefaults().WithOverrides(configs)
	if err != nil {
		return 0, storage.TopicConfig{}, errorCode(err), err.Error()
	}
	return partitions, config, 0, ""
}

// createdConfigs lists a new topic's configs for the response.
func (b *Broker) createdConfigs(config storage.TopicConfig) []kmsg.CreateTopicsResponseTopicConfig {
	var out []kmsg.CreateTopicsResponseTopicConfig
	for _, e := range b.topicConfigEntries(config) {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name, c.Value, c.Source, c.ReadOnly = e.name, kmsg.StringPtr(e.value), int8(e.source), e.readOnly
		out = append(out, c)
	}
	return out
}
