package broker

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// describeTopic returns a topic's configs by name.
func describeTopic(t *testing.T, adm *kadm.Client, topic string) map[string]*kadm.Config {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe %s: %v %v", topic, err, rc.Err)
	}
	configs := make(map[string]*kadm.Config)
	for i := range rc.Configs {
		c := rc.Configs[i]
		configs[c.Key] = &c
	}
	return configs
}

func TestTopicConfigs(t *testing.T) {
	b := startBroker(t, Config{})
	adm := adminClient(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	created, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{
		"retention.ms": kmsg.StringPtr("3600000"), "segment.bytes": kmsg.StringPtr("1048576"),
	}, "configs")
	if err != nil || created.Err != nil {
		t.Fatalf("create: %v %v", err, created.Err)
	}
	configs := describeTopic(t, adm, "configs")
	for _, want := range []struct {
		name, value string
		source      kmsg.ConfigSource
	}{
		{"retention.ms", "3600000", kmsg.ConfigSourceDynamicTopicConfig},
		{"segment.bytes", "1048576", kmsg.ConfigSourceDynamicTopicConfig},
		{"cleanup.policy", "delete", kmsg.ConfigSourceDefaultConfig},
		{"max.message.bytes", "1048588", kmsg.ConfigSourceDefaultConfig},
		{"min.insync.replicas", "1", kmsg.ConfigSourceDefaultConfig},
	} {
		c, ok := configs[want.name]
		if !ok || c.MaybeValue() != want.value || c.Source != want.source {
			t.Errorf("%s: %+v, want %s from %v", want.name, c, want.value, want.source)
		}
	}
	if syn := configs["retention.ms"].Synonyms; len(syn) != 2 || syn[1].Key != "log.retention.ms" || syn[1].Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("retention.ms synonyms: %+v", syn)
	}

	// Incremental: set, delete, append to and subtract from a list.
	alter := func(ops ...kadm.AlterConfig) error {
		resps, err := adm.AlterTopicConfigs(ctx, ops, "configs")
		if err != nil {
			return err
		}
		return resps[0].Err
	}
	if err := alter(
		kadm.AlterConfig{Op: kadm.SetConfig, Name: "retention.bytes", Value: kmsg.StringPtr("1000000")},
		kadm.AlterConfig{Op: kadm.DeleteConfig, Name: "segment.bytes"},
		kadm.AlterConfig{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: kmsg.StringPtr("compact")},
	); err != nil {
		t.Fatal(err)
	}
	configs = describeTopic(t, adm, "configs")
	if v := configs["cleanup.policy"].MaybeValue(); v != "delete,compact" {
		t.Errorf("cleanup.policy after append: %q", v)
	}
	if c := configs["segment.bytes"]; c.Source != kmsg.ConfigSourceDefaultConfig || c.MaybeValue() != "1073741824" {
		t.Errorf("segment.bytes after delete: %+v", c)
	}
	if v := configs["retention.ms"].MaybeValue(); v != "3600000" {
		t.Errorf("retention.ms changed by an incremental alter of others: %q", v)
	}
	if err := alter(kadm.AlterConfig{Op: kadm.SubtractConfig, Name: "cleanup.policy", Value: kmsg.StringPtr("delete")}); err != nil {
		t.Fatal(err)
	}
	info, err := b.engine.Topic("configs")
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.CleanupPolicy != "compact" || info.Config.RetentionBytes != 1000000 || info.Config.RetentionMs != 3600000 {
		t.Errorf("the engine holds %+v", info.Config)
	}

	// Errors, each leaving the configs as they were.
	for _, tc := range []struct {
		op   kadm.AlterConfig
		want error
	}{
		{kadm.AlterConfig{Op: kadm.SetConfig, Name: "retention.ms", Value: kmsg.StringPtr("soon")}, kerr.InvalidConfig},
		{kadm.AlterConfig{Op: kadm.SetConfig, Name: "no.such.config", Value: kmsg.StringPtr("1")}, kerr.InvalidConfig},
		{kadm.AlterConfig{Op: kadm.AppendConfig, Name: "retention.ms", Value: kmsg.StringPtr("1")}, kerr.InvalidConfig},
		{kadm.AlterConfig{Op: kadm.SubtractConfig, Name: "cleanup.policy", Value: kmsg.StringPtr("compact")}, kerr.InvalidConfig},
	} {
		if err := alter(tc.op); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.op, err, tc.want)
		}
	}
	if v := describeTopic(t, adm, "configs")["retention.ms"].MaybeValue(); v != "3600000" {
		t.Errorf("retention.ms after failed alters: %q", v)
	}

	// Non-incremental: the request's configs replace all of the topic's.
	resps, err := adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: kmsg.StringPtr("2000")}}, "configs")
	if err != nil || resps[0].Err != nil {
		t.Fatalf("alter state: %v %v", err, resps)
	}
	configs = describeTopic(t, adm, "configs")
	if configs["retention.ms"].Source != kmsg.ConfigSourceDefaultConfig || configs["max.message.bytes"].MaybeValue() != "2000" || configs["cleanup.policy"].MaybeValue() != "delete" {
		t.Errorf("after a non-incremental alter: retention.ms %+v max.message.bytes %+v cleanup.policy %+v",
			configs["retention.ms"], configs["max.message.bytes"], configs["cleanup.policy"])
	}
	cl := client(t, b)
	big := &kgo.Record{Topic: "configs", Value: make([]byte, 4000)}
	rand.Read(big.Value) // incompressible
	if err := cl.ProduceSync(ctx, big).FirstErr(); !errors.Is(err, kerr.MessageTooLarge) {
		t.Errorf("a 4000-byte record under max.message.bytes=2000: %v", err)
	}

	// DELETE of a name that is not a config does nothing, as on Kafka.
	if err := alter(kadm.AlterConfig{Op: kadm.DeleteConfig, Name: "no.such.config"}); err != nil {
		t.Errorf("delete an unknown config: %v", err)
	}
	// An empty list of names asks for every config, as null does.
	dc := kmsg.NewPtrDescribeConfigsRequest()
	dr := kmsg.NewDescribeConfigsRequestResource()
	dr.ResourceType, dr.ResourceName, dr.ConfigNames = kmsg.ConfigResourceTypeTopic, "configs", []string{}
	dc.Resources = append(dc.Resources, dr)
	if resp, err := dc.RequestWith(ctx, client(t, b)); err != nil || len(resp.Resources) != 1 || len(resp.Resources[0].Configs) < 20 {
		t.Errorf("describe with no names: %v %+v", err, resp)
	}

	// Unknown topics, bad configs at creation, node configs.
	if resps, _ := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kmsg.StringPtr("1")}}, "absent"); len(resps) != 1 || !errors.Is(resps[0].Err, kerr.UnknownTopicOrPartition) {
		t.Errorf("alter an unknown topic: %+v", resps)
	}
	if created, _ := adm.CreateTopic(ctx, 1, -1, map[string]*string{"cleanup.policy": kmsg.StringPtr("sometimes")}, "bad"); !errors.Is(created.Err, kerr.InvalidConfig) {
		t.Errorf("create with a bad config: %v", created.Err)
	}
	brokerConfigs, err := adm.DescribeBrokerConfigs(ctx, 1)
	if err != nil || len(brokerConfigs) != 1 || brokerConfigs[0].Err != nil {
		t.Fatalf("describe broker: %v %+v", err, brokerConfigs)
	}
	found := false
	for _, c := range brokerConfigs[0].Configs {
		if c.Key == "log.retention.ms" && c.MaybeValue() == "604800000" {
			found = true
		}
	}
	if !found {
		t.Errorf("log.retention.ms not among the node's configs: %+v", brokerConfigs[0].Configs)
	}
	if resps, _ := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: kmsg.StringPtr("1")}}, 1); len(resps) != 1 || !errors.Is(resps[0].Err, kerr.InvalidRequest) {
		t.Errorf("alter a node config: %+v", resps)
	}
}

func TestProduceChecksOfTopicConfigs(t *testing.T) {
	b := startBroker(t, Config{})
	adm := adminClient(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for topic, configs := range map[string]map[string]*string{
		"isr":   {"min.insync.replicas": kmsg.StringPtr("2")},
		"clock": {"message.timestamp.before.max.ms": kmsg.StringPtr("3600000"), "message.timestamp.after.max.ms": kmsg.StringPtr(" 60000")},
		"wide":  {"message.timestamp.before.max.ms": kmsg.StringPtr("9223372036854775807"), "message.timestamp.after.max.ms": kmsg.StringPtr("9223372036854775807")},
	} {
		if created, err := adm.CreateTopic(ctx, 1, 1, configs, topic); err != nil || created.Err != nil {
			t.Fatalf("create %s: %v %v", topic, err, created.Err)
		}
	}
	// NOT_ENOUGH_REPLICAS is retriable: one retry, so that it surfaces.
	all, err := kgo.NewClient(kgo.SeedBrokers(b.Addr().String()), kgo.RecordRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	one, err := kgo.NewClient(kgo.SeedBrokers(b.Addr().String()), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(), kgo.RecordRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	now := time.Now()
	for _, tc := range []struct {
		name string
		cl   *kgo.Client
		rec  *kgo.Record
		want error
	}{
		{"acks=all below min.insync.replicas", all, &kgo.Record{Topic: "isr", Value: []byte("v")}, kerr.NotEnoughReplicas},
		{"acks=1 is not bound by it", one, &kgo.Record{Topic: "isr", Value: []byte("v")}, nil},
		{"a timestamp two hours old", one, &kgo.Record{Topic: "clock", Value: []byte("v"), Timestamp: now.Add(-2 * time.Hour)}, kerr.InvalidTimestamp},
		{"a timestamp ten minutes ahead", one, &kgo.Record{Topic: "clock", Value: []byte("v"), Timestamp: now.Add(10 * time.Minute)}, kerr.InvalidTimestamp},
		{"a timestamp now", one, &kgo.Record{Topic: "clock", Value: []byte("v"), Timestamp: now}, nil},
		{"Kafka's defaults set explicitly", one, &kgo.Record{Topic: "wide", Value: []byte("v"), Timestamp: now}, nil},
	} {
		err := tc.cl.ProduceSync(ctx, tc.rec).FirstErr()
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestPartitionsRecordsClusterAndLogDirs(t *testing.T) {
	b := startBroker(t, Config{})
	adm := adminClient(t, b)
	cl := client(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if created, err := adm.CreateTopic(ctx, 1, 1, nil, "grow"); err != nil || created.Err != nil {
		t.Fatalf("create: %v %v", err, created.Err)
	}

	// CreatePartitions.
	if resps, err := adm.CreatePartitions(ctx, 2, "grow"); err != nil || resps["grow"].Err != nil {
		t.Fatalf("add partitions: %v %+v", err, resps)
	}
	if info, _ := b.engine.Topic("grow"); info.Partitions != 3 {
		t.Fatalf("%d partitions after adding 2 to 1", info.Partitions)
	}
	for _, tc := range []struct {
		total int
		topic string
		want  error
	}{
		{2, "grow", kerr.InvalidPartitions},
		{3, "grow", kerr.InvalidPartitions},
		{4, "absent", kerr.UnknownTopicOrPartition},
	} {
		resps, err := adm.UpdatePartitions(ctx, tc.total, tc.topic)
		if err != nil || !errors.Is(resps[tc.topic].Err, tc.want) {
			t.Errorf("set %s to %d partitions: %v %+v, want %v", tc.topic, tc.total, err, resps, tc.want)
		}
	}

	// DeleteRecords, then a fetch from the log start and ListOffsets.
	for i := range 10 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "grow", Partition: 2, Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var offsets kadm.Offsets
	offsets.Add(kadm.Offset{Topic: "grow", Partition: 2, At: 7})
	deleted, err := adm.DeleteRecords(ctx, offsets)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := deleted.Lookup("grow", 2); d.Err != nil || d.LowWatermark != 7 {
		t.Fatalf("delete records: %+v", d)
	}
	offsets = kadm.Offsets{}
	offsets.Add(kadm.Offset{Topic: "grow", Partition: 2, At: 11})
	deleted, _ = adm.DeleteRecords(ctx, offsets)
	if d, _ := deleted.Lookup("grow", 2); !errors.Is(d.Err, kerr.OffsetOutOfRange) {
		t.Errorf("delete records past the high watermark: %+v", d)
	}
	if created, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": kmsg.StringPtr("compact")}, "compacted"); err != nil || created.Err != nil {
		t.Fatalf("create: %v %v", err, created.Err)
	}
	offsets = kadm.Offsets{}
	offsets.Add(kadm.Offset{Topic: "compacted", Partition: 0, At: 0})
	deleted, _ = adm.DeleteRecords(ctx, offsets)
	if d, _ := deleted.Lookup("compacted", 0); !errors.Is(d.Err, kerr.PolicyViolation) {
		t.Errorf("delete records of a compacted topic: %+v", d)
	}
	starts, err := adm.ListStartOffsets(ctx, "grow")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := starts.Lookup("grow", 2); s.Offset != 7 {
		t.Errorf("log start %d after deleting records before 7", s.Offset)
	}

	// DescribeCluster.
	dc := kmsg.NewPtrDescribeClusterRequest()
	resp, err := dc.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != 0 || resp.ClusterID != "weir" || resp.ControllerID != 1 || len(resp.Brokers) != 1 || resp.Brokers[0].Port == 0 {
		t.Errorf("describe cluster: %+v", resp)
	}
	dc.EndpointType = 2
	if resp, err := dc.RequestWith(ctx, cl); err != nil || resp.ErrorCode != kerr.UnsupportedEndpointType.Code {
		t.Errorf("describe controllers: %v %+v", err, resp)
	}

	// DescribeLogDirs.
	dirs, err := adm.DescribeAllLogDirs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := dirs[1][b.engine.Dir()]
	if dir.Err != nil || dir.UsableBytes <= 0 {
		t.Fatalf("log dirs: %+v", dirs)
	}
	if p, ok := dir.Topics.Lookup("grow", 2); !ok || p.Size <= 0 {
		t.Errorf("partition grow/2 in the log dir: %+v %v", p, ok)
	}

	// OffsetForLeaderEpoch: epoch 0 ends at the log end; later ones are
	// unknown.
	var req kadm.OffsetForLeaderEpochRequest
	req.Add("grow", 2, 0)
	req.Add("grow", 1, 5)
	epochs, err := adm.OffsetForLeaderEpoch(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if e := epochs["grow"][2]; e.Err != nil || e.EndOffset != 10 || e.LeaderEpoch != 0 {
		t.Errorf("epoch 0 of grow/2: %+v", e)
	}
	if e := epochs["grow"][1]; e.Err != nil || e.EndOffset != -1 || e.LeaderEpoch != -1 {
		t.Errorf("epoch 5 of grow/1: %+v", e)
	}
}
