package broker

// Metadata (key 3), versions 0-12.
//
// Describes the single node and the requested topics (all of them when the
// request names none). A topic that does not exist is created with the
// node's default partition count when the request allows auto-creation
// (always before version 4) and the broker's auto-creation is on;
// otherwise it gets UNKNOWN_TOPIC_OR_PARTITION. An invalid name gets
// INVALID_TOPIC_EXCEPTION. Topics named by id (version 10+) that do not
// exist get UNKNOWN_TOPIC_ID. Every partition is led by this node, with
// itself as the only replica.

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/storage"
)

func (b *Broker) metadataHandler() handler {
	return handler{key: kmsg.Metadata.Int16(), min: 0, max: 12, serve: b.metadata}
}

func (b *Broker) metadata(_ context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	node := kmsg.NewMetadataResponseBroker()
	node.NodeID, node.Host, node.Port = b.cfg.NodeID, b.cfg.AdvertisedHost, b.cfg.AdvertisedPort
	resp.Brokers = []kmsg.MetadataResponseBroker{node}
	resp.ClusterID = kmsg.StringPtr(b.cfg.ClusterID)
	resp.ControllerID = b.cfg.NodeID

	if req.Topics == nil {
		for _, t := range b.engine.Topics() {
			resp.Topics = append(resp.Topics, b.topicMetadata(t))
		}
		return resp, nil
	}
	allowCreate := req.Version < 4 || req.AllowAutoTopicCreation
	for _, rt := range req.Topics {
		resp.Topics = append(resp.Topics, b.requestedTopic(rt, allowCreate))
	}
	return resp, nil
}

// requestedTopic describes one topic the request named.
func (b *Broker) requestedTopic(rt kmsg.MetadataRequestTopic, allowCreate bool) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic, mt.TopicID = rt.Topic, rt.TopicID
	if rt.Topic == nil {
		for _, t := range b.engine.Topics() {
			if t.ID == rt.TopicID {
				return b.topicMetadata(t)
			}
		}
		mt.ErrorCode = kerr.UnknownTopicID.Code
		return mt
	}
	name := *rt.Topic
	if err := storage.ValidTopicName(name); err != nil {
		mt.ErrorCode = errorCode(err)
		return mt
	}
	info, err := b.engine.Topic(name)
	if errors.Is(err, storage.ErrUnknownTopicOrPartition) && allowCreate && !b.cfg.DisableAutoCreate {
		info, err = b.engine.CreateTopic(name, b.cfg.DefaultPartitions, b.engine.TopicDefaults())
		if errors.Is(err, storage.ErrTopicExists) {
			info, err = b.engine.Topic(name) // created meanwhile
		}
		if err == nil {
			b.logger.Info("topic auto-created", "topic", name, "partitions", info.Partitions)
		}
	}
	if err != nil {
		mt.ErrorCode = errorCode(err)
		return mt
	}
	return b.topicMetadata(info)
}

// topicMetadata describes an existing topic.
func (b *Broker) topicMetadata(t storage.TopicInfo) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic, mt.TopicID = kmsg.StringPtr(t.Name), t.ID
	mt.IsInternal = internalTopic(t.Name)
	for i := range t.Partitions {
		p := kmsg.NewMetadataResponseTopicPartition()
		p.Partition, p.Leader, p.LeaderEpoch = i, b.cfg.NodeID, 0
		p.Replicas, p.ISR = []int32{b.cfg.NodeID}, []int32{b.cfg.NodeID}
		mt.Partitions = append(mt.Partitions, p)
	}
	return mt
}
