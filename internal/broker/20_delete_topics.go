package broker

// DeleteTopics (key 20), versions 1-6.
//
// Deletes topics by name, or from version 6 by name or id. A topic that
// does not exist gets UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID when
// named by id). The storage engine reclaims the space in the background;
// the groups' committed offsets of the topic are deleted too. The
// internal __consumer_offsets cannot be deleted (INVALID_TOPIC_EXCEPTION).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/group"
)

func (b *Broker) deleteTopicsHandler() handler {
	return handler{key: kmsg.DeleteTopics.Int16(), min: 1, max: 6, serve: b.deleteTopics}
}

func (b *Broker) deleteTopics(ctx context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	names := req.TopicNames
	ids := make([][16]byte, len(names))
	if req.Version >= 6 {
		names, ids = nil, nil
		for _, t := range req.Topics {
			if t.Topic != nil {
				names = append(names, *t.Topic)
				ids = append(ids, [16]byte{})
				continue
			}
			name, ok := b.topicByID(t.TopicID)
			if !ok {
				st := kmsg.NewDeleteTopicsResponseTopic()
				st.TopicID, st.ErrorCode = t.TopicID, kerr.UnknownTopicID.Code
				resp.Topics = append(resp.Topics, st)
				continue
			}
			names = append(names, name)
			ids = append(ids, t.TopicID)
		}
	}
	for i, name := range names {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID = kmsg.StringPtr(name), ids[i]
		if info, err := b.engine.Topic(name); err == nil {
			st.TopicID = info.ID
		}
		if err := b.deleteTopic(ctx, name); err != nil {
			st.ErrorCode = errorCode(err)
			st.ErrorMessage = kmsg.StringPtr(err.Error())
		} else {
			b.logger.Info("topic deleted", "topic", name)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// topicByID finds a topic's name by its id.
func (b *Broker) topicByID(id [16]byte) (string, bool) {
	for _, t := range b.engine.Topics() {
		if t.ID == id {
			return t.Name, true
		}
	}
	return "", false
}

// deleteTopic deletes a topic and the groups' offsets of it. The broker's
// internal topics cannot be deleted.
func (b *Broker) deleteTopic(ctx context.Context, name string) error {
	if internalTopic(name) {
		return errInternalTopic
	}
	if err := b.engine.DeleteTopic(name); err != nil {
		return err
	}
	b.logged(ctx, func() []group.Record { return b.groups.TopicDeleted(name) }, nil)
	return nil
}
