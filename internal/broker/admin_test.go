package broker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestCreateDeleteTopics(t *testing.T) {
	b := startBroker(t, Config{DisableAutoCreate: true})
	cl := client(t, b)
	adm := adminClient(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	created, err := adm.CreateTopic(ctx, 3, -1, map[string]*string{"retention.ms": kmsg.StringPtr("60000"), "cleanup.policy": kmsg.StringPtr("compact")}, "orders")
	if err != nil || created.Err != nil {
		t.Fatalf("create: %+v %v", created, err)
	}
	if created.ID == ([16]byte{}) {
		t.Fatal("no topic id")
	}
	md, err := adm.Metadata(ctx, "orders")
	if err != nil || len(md.Topics["orders"].Partitions) != 3 || md.Topics["orders"].ID != created.ID {
		t.Fatalf("metadata after create: %+v %v", md.Topics, err)
	}
	if info, err := b.engine.Topic("orders"); err != nil || info.Config.RetentionMs != 60000 || !info.Config.Compacts() {
		t.Fatalf("configs after create: %+v %v", info, err)
	}

	// Errors, per topic.
	tests := []struct {
		name    string
		topic   kmsg.CreateTopicsRequestTopic
		wantErr error
	}{
		{"exists", createTopic("orders", 1, -1, nil), kerr.TopicAlreadyExists},
		{"invalid name", createTopic("a/b", 1, -1, nil), kerr.InvalidTopicException},
		{"zero partitions", createTopic("zero", 0, -1, nil), kerr.InvalidPartitions},
		{"replication factor 3", createTopic("rf3", 1, 3, nil), kerr.InvalidReplicationFactor},
		{"unknown config", createTopic("cfg", 1, -1, map[string]string{"no.such.config": "1"}), kerr.InvalidConfig},
		{"bad config value", createTopic("cfg2", 1, -1, map[string]string{"retention.ms": "soon"}), kerr.InvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := kmsg.NewPtrCreateTopicsRequest()
			req.Topics = append(req.Topics, tt.topic)
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			if got := kerr.ErrorForCode(resp.Topics[0].ErrorCode); !errors.Is(got, tt.wantErr) {
				t.Fatalf("error %v, want %v", got, tt.wantErr)
			}
		})
	}

	// Validate-only creates nothing.
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Topics = append(req.Topics, createTopic("dry", 2, 1, nil))
	req.ValidateOnly = true
	if resp, err := req.RequestWith(ctx, cl); err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("validate only: %+v %v", resp, err)
	}
	if _, err := b.engine.Topic("dry"); err == nil {
		t.Fatal("validate-only created the topic")
	}

	// Delete by name, then a missing topic.
	deleted, err := adm.DeleteTopics(ctx, "orders")
	if err != nil || deleted["orders"].Err != nil {
		t.Fatalf("delete: %+v %v", deleted, err)
	}
	deleted, err = adm.DeleteTopics(ctx, "orders")
	if err != nil || !errors.Is(deleted["orders"].Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("delete again: %+v %v", deleted, err)
	}
}

func createTopic(name string, partitions int32, rf int16, configs map[string]string) kmsg.CreateTopicsRequestTopic {
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = name, partitions, rf
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		t.Configs = append(t.Configs, c)
	}
	return t
}
