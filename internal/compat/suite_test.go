package compat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/weir-io/weir/internal/storage"
)

// client is a Kafka client under test: what it is called in
// docs/compatibility.md, and what it cannot do.
type client struct {
	name string
	// lacks maps the features the client does not have to the reason;
	// their subtests are skipped and the table says "not supported".
	lacks map[string]string
	// notes maps features to how the client does them, where that needs
	// saying in the table.
	notes map[string]string
	// untested maps features the client has but the suite does not run
	// with it to the reason; the table says "not tested".
	untested map[string]string
	// explain maps features known to fail to the reason, which the
	// table gives instead of the error (the subtest still fails, with the
	// error).
	explain map[string]string
	// blocked maps features that fail until a later piece of Weir lands
	// to what they wait for: the subtest is skipped while it fails (the
	// table says "fails" with the reason), and fails once it passes, so
	// that the entry is removed.
	blocked map[string]string
	// noTimestamps is set when the client cannot give a record its
	// timestamp: its records carry the time the client stamped them with.
	noTimestamps bool
	// produceData and consumeData narrow the data sets the client
	// produces and consumes to what it can express (nil for all of it);
	// the notes of produce/none and consume/none say how.
	produceData, consumeData func([]record) []record
	// emptyAsNull is set when the client reads an empty key, value or
	// header value as null: what it consumed is compared with the data set
	// made so.
	emptyAsNull bool
	// skipsUselessCompression is set when the client sends a batch
	// uncompressed if compressing did not make it smaller (librdkafka):
	// such batches are accepted as long as some batch is compressed.
	skipsUselessCompression bool
	// producerPerRecord is set when the client runs a producer per record
	// (kcat, a process per record): each record it produces idempotently
	// has a producer id of its own.
	producerPerRecord bool
	// pastEndIsEnd is set when, for a time after every record, the
	// client's offset lookup gives the end offset rather than Kafka's -1.
	pastEndIsEnd bool
	// groups maps the rebalance protocols the client's consumer groups
	// have (groupProtocols) to what starts their members; groupLacks
	// maps the protocols it does not have to the reason, and
	// groupUntested those it has that the suite does not run.
	groups        map[string]groupClient
	groupLacks    map[string]string
	groupUntested map[string]string
	// groupCommits says how the client's group members commit: the note
	// of its commit-restart rows.
	groupCommits string
}

// consumed narrows a data set that the suite produces for the client to
// consume.
func (c *client) consumed(records []record) []record {
	if c.consumeData == nil {
		return records
	}
	return c.consumeData(records)
}

// consumable returns records as the client reads them: with empty keys,
// values and header values null if the client reads them so.
func (c *client) consumable(records []record) []record {
	if !c.emptyAsNull {
		return records
	}
	out := make([]record, len(records))
	for i, r := range records {
		r.Key, r.Value = emptyToNull(r.Key), emptyToNull(r.Value)
		hs := make([]header, len(r.Headers))
		for j, h := range r.Headers {
			hs[j] = header{Key: h.Key, Value: emptyToNull(h.Value)}
		}
		r.Headers = hs
		out[i] = r
	}
	return out
}

func emptyToNull(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// feature is one subtest of the suite: it returns nil when the client did
// everything right, else what went wrong.
type feature struct {
	name string
	run  func(ctx context.Context, e *env, c *client, d driver, topic string) error
	// only, when set, is the one client the suite runs the feature with;
	// for the others that have it the table says "not tested", for the
	// reason untested gives.
	only, untested string
}

// features lists the suite's features in the order of the table.
func features() []feature {
	fs := []feature{{name: "create-topic", run: createTopicFeature}}
	for _, codec := range codecs {
		fs = append(fs, feature{name: "produce/" + codec, run: produceFeature(codec)})
	}
	for _, codec := range idempotentCodecs {
		fs = append(fs, feature{name: "idempotent/" + codec, run: idempotentFeature(codec)})
	}
	fs = append(fs, feature{name: "idempotent/retry", run: idempotentRetryFeature, only: "franz-go", untested: idempotentRetryUntested})
	fs = append(fs, txnFeatures()...)
	for _, codec := range codecs {
		fs = append(fs, feature{name: "consume/" + codec, run: consumeFeature(codec)})
	}
	fs = append(fs,
		feature{name: "consume-by-timestamp", run: consumeByTimestampFeature},
		feature{name: "auto-create/produce", run: autoCreateProduceFeature},
		feature{name: "auto-create/metadata", run: autoCreateMetadataFeature},
		feature{name: "delete-topic", run: deleteTopicFeature},
		feature{name: "configs/describe", run: describeConfigsFeature},
		feature{name: "configs/alter", run: alterConfigsFeature},
	)
	for _, ec := range errorCases {
		fs = append(fs, feature{name: "errors/" + ec.name, run: ec.feature})
	}
	return fs
}

// runSuite runs every feature against one client, each as a subtest, on a
// broker of its own, and the group scenario alongside (startGroups), and
// records the outcomes for docs/compatibility.md.
// newDriver makes the client's driver for the broker's address.
func runSuite(t *testing.T, c *client, newDriver func(addr string) driver) {
	e := newEnv(t)
	d := newDriver(e.addr)
	ctx, cancel := context.WithTimeout(context.Background(), featureTimeout)
	v, err := d.version(ctx)
	cancel()
	if err != nil {
		t.Fatalf("%s version: %v", c.name, err)
	}
	recordVersion(c.name, v)
	t.Logf("%s", v)
	groupsDone := startGroups(t, c)
	defer groupsDone()
	for _, f := range features() {
		t.Run(f.name, func(t *testing.T) {
			if why, ok := c.lacks[f.name]; ok {
				recordOutcome(c.name, f.name, outcome{status: notSupported, note: why})
				t.Skip("not supported: " + why)
			}
			if why, ok := c.untested[f.name]; ok {
				recordOutcome(c.name, f.name, outcome{status: notTested, note: why})
				t.Skip("not tested: " + why)
			}
			if f.only != "" && f.only != c.name {
				recordOutcome(c.name, f.name, outcome{status: notTested, note: f.untested})
				t.Skip("not tested: " + f.untested)
			}
			ctx, cancel := context.WithTimeout(context.Background(), featureTimeout)
			defer cancel()
			topic := strings.ReplaceAll(f.name, "/", "-")
			report(t, c, f.name, f.run(ctx, e, c, d, topic))
		})
	}
}

// report records the outcome of a feature, err nil when it passed, and
// fails the test unless it passed or is blocked.
func report(t *testing.T, c *client, feature string, err error) {
	why, blocked := c.blocked[feature]
	switch {
	case err != nil && blocked:
		recordOutcome(c.name, feature, outcome{status: fails, note: why})
		t.Skipf("fails until %s (%v)", why, err)
	case err != nil:
		note := err.Error()
		if why := c.explain[feature]; why != "" {
			note = why
		}
		recordOutcome(c.name, feature, outcome{status: fails, note: note})
		t.Fatal(err)
	case blocked:
		t.Errorf("passes now, though listed as blocked (%s): remove it from the client's blocked features", why)
	}
	recordOutcome(c.name, feature, outcome{status: passes, note: c.notes[feature]})
}

// base is the timestamp of the first record of a data set: an hour ago,
// well inside the default retention.
func base() time.Time { return time.Now().Add(-time.Hour).Truncate(time.Second) }

func createTopicFeature(ctx context.Context, e *env, c *client, d driver, topic string) error {
	configs := map[string]string{"retention.ms": "3600000", "max.message.bytes": "2000000"}
	if err := d.createTopic(ctx, topic, 3, 1, configs); err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	info, err := e.broker.Engine.Topic(topic)
	switch {
	case err != nil:
		return fmt.Errorf("after create: %w", err)
	case info.Partitions != 3:
		return fmt.Errorf("created with %d partitions, want 3", info.Partitions)
	case info.Config.RetentionMs != 3600000 || info.Config.MaxMessageBytes != 2000000:
		return fmt.Errorf("created with retention.ms %d and max.message.bytes %d, want 3600000 and 2000000", info.Config.RetentionMs, info.Config.MaxMessageBytes)
	}
	return nil
}

// produceFeature has the client produce a data set under codec into a
// topic of two partitions, then reads it back with franz-go: every byte,
// the offsets, and the codec of every batch.
func produceFeature(codec string) func(context.Context, *env, *client, driver, string) error {
	return func(ctx context.Context, e *env, c *client, d driver, topic string) error {
		if err := e.createTopic(ctx, topic, 2, nil); err != nil {
			return err
		}
		return produceAndCheck(ctx, e, c, d, topic, codec, dataSet(codec, 2, base()))
	}
}

// produceAndCheck has the client produce records and checks them with
// franz-go.
func produceAndCheck(ctx context.Context, e *env, c *client, d driver, topic, codec string, want []record) error {
	_, err := produceAndCheckWith(ctx, e, c, d.produce, topic, codec, want)
	return err
}

// producer is a driver's produce or produceIdempotent.
type producer func(ctx context.Context, topic, codec string, records []record) ([]position, error)

// produceAndCheckWith produces records with produce and checks them with
// franz-go: every byte, the offsets (dense, each record stored once), and
// the codec of every batch. It returns the batch each record was stored
// in, in partition and offset order.
func produceAndCheckWith(ctx context.Context, e *env, c *client, produce producer, topic, codec string, want []record) ([]stored, error) {
	if c.produceData != nil {
		want = c.produceData(want)
	}
	start := time.Now().UnixMilli()
	positions, err := produce(ctx, topic, codec, want)
	if err != nil {
		return nil, fmt.Errorf("produce: %w", err)
	}
	end := time.Now().UnixMilli()
	if positions != nil {
		if err := checkPositions(positions, want); err != nil {
			return nil, err
		}
	}
	got, batches, err := e.read(ctx, topic)
	if err != nil {
		return nil, err
	}
	want = sorted(want)
	if c.noTimestamps {
		for i := range min(len(got), len(want)) {
			if got[i].Timestamp < start || got[i].Timestamp > end {
				return nil, fmt.Errorf("record %d has timestamp %d, not within the produce call [%d, %d]", i, got[i].Timestamp, start, end)
			}
			want[i].Timestamp = got[i].Timestamp
		}
	}
	if d := diffRecords(got, want); d != "" {
		return nil, fmt.Errorf("read back with franz-go: %s", d)
	}
	compressed := false
	for i, b := range batches {
		switch {
		case b.codec == codec:
			compressed = true
		case b.codec == "none" && c.skipsUselessCompression:
		default:
			return nil, fmt.Errorf("record %d (partition %d, offset %d) is in a batch compressed with %s, want %s", i, got[i].Partition, got[i].Offset, b.codec, codec)
		}
	}
	if !compressed {
		return nil, fmt.Errorf("no batch is compressed with %s", codec)
	}
	return batches, nil
}

// consumeFeature produces a data set with franz-go under codec, then has
// the client read it from the earliest offset of both partitions.
func consumeFeature(codec string) func(context.Context, *env, *client, driver, string) error {
	return func(ctx context.Context, e *env, c *client, d driver, topic string) error {
		want := c.consumed(dataSet(codec, 2, base()))
		if err := e.createTopic(ctx, topic, 2, nil); err != nil {
			return err
		}
		if err := e.produce(ctx, topic, codec, want); err != nil {
			return err
		}
		want = c.consumable(sorted(want))
		got, err := d.consume(ctx, topic, 2, want)
		if err != nil {
			return fmt.Errorf("consume: %w", err)
		}
		sortRecords(got)
		if d := diffRecords(got, want); d != "" {
			return fmt.Errorf("consumed: %s", d)
		}
		return nil
	}
}

// consumeByTimestampFeature produces a data set with franz-go into one
// partition (timestamps one second apart), looks up offsets by time with
// the client, and has it consume from the first one.
func consumeByTimestampFeature(ctx context.Context, e *env, c *client, d driver, topic string) error {
	records := c.consumed(dataSet("time", 1, base()))
	if err := e.createTopic(ctx, topic, 1, nil); err != nil {
		return err
	}
	if err := e.produce(ctx, topic, "none", records); err != nil {
		return err
	}
	last := records[len(records)-1].Timestamp
	pastEnd := int64(-1)
	if c.pastEndIsEnd {
		pastEnd = int64(len(records))
	}
	lookups := []struct {
		timestamp, want int64
	}{
		{records[4].Timestamp, 4},       // a record's own timestamp
		{records[7].Timestamp - 500, 7}, // between two records: the later one
		{records[0].Timestamp - 3600000, 0},
		{last + 1000, pastEnd},
	}
	timestamps := make([]int64, len(lookups))
	for i, l := range lookups {
		timestamps[i] = l.timestamp
	}
	got, err := d.offsetsForTimes(ctx, topic, 0, timestamps)
	if err != nil {
		return fmt.Errorf("offsets for times: %w", err)
	}
	if len(got) != len(lookups) {
		return fmt.Errorf("%d offsets for %d timestamps", len(got), len(lookups))
	}
	for i, l := range lookups {
		if got[i] != l.want {
			return fmt.Errorf("offset for timestamp %d is %d, want %d", l.timestamp, got[i], l.want)
		}
	}
	want := c.consumable(records[4:])
	consumed, err := d.consumeFrom(ctx, topic, 0, got[0], want)
	if err != nil {
		return fmt.Errorf("consume from offset %d: %w", got[0], err)
	}
	if d := diffRecords(consumed, want); d != "" {
		return fmt.Errorf("consumed from offset %d: %s", got[0], d)
	}
	return nil
}

// autoCreateProduceFeature has the client produce to a topic that does not
// exist: the broker creates it with one partition.
func autoCreateProduceFeature(ctx context.Context, e *env, c *client, d driver, topic string) error {
	if err := produceAndCheck(ctx, e, c, d, topic, "none", dataSet("auto", 1, base())); err != nil {
		return err
	}
	if n, ok := e.topicPartitions(topic); !ok || n != 1 {
		return fmt.Errorf("after producing, the topic exists %v with %d partitions, want 1", ok, n)
	}
	return nil
}

// autoCreateMetadataFeature has the client ask for the metadata of a topic
// that does not exist.
func autoCreateMetadataFeature(ctx context.Context, e *env, c *client, d driver, topic string) error {
	n, err := d.metadata(ctx, topic)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if n != 1 {
		return fmt.Errorf("metadata reports %d partitions, want 1", n)
	}
	if n, ok := e.topicPartitions(topic); !ok || n != 1 {
		return fmt.Errorf("after metadata, the topic exists %v with %d partitions, want 1", ok, n)
	}
	return nil
}

func deleteTopicFeature(ctx context.Context, e *env, c *client, d driver, topic string) error {
	if err := e.createTopic(ctx, topic, 2, nil); err != nil {
		return err
	}
	if err := d.deleteTopic(ctx, topic); err != nil {
		return fmt.Errorf("delete topic: %w", err)
	}
	if _, err := e.broker.Engine.Topic(topic); !errors.Is(err, storage.ErrUnknownTopicOrPartition) {
		return fmt.Errorf("after delete, the broker's engine says %v, want %v", err, storage.ErrUnknownTopicOrPartition)
	}
	return nil
}

func describeConfigsFeature(ctx context.Context, e *env, c *client, d driver, topic string) error {
	if err := e.createTopic(ctx, topic, 1, map[string]string{"retention.ms": "3600000", "cleanup.policy": "compact"}); err != nil {
		return err
	}
	want := map[string]string{"retention.ms": "3600000", "cleanup.policy": "compact", "max.message.bytes": "1048588"}
	got, err := d.describeConfigs(ctx, topic, []string{"retention.ms", "cleanup.policy", "max.message.bytes"})
	if err != nil {
		return fmt.Errorf("describe configs: %w", err)
	}
	for name, v := range want {
		if got[name] != v {
			return fmt.Errorf("described %s=%q, want %q (all: %v)", name, got[name], v, got)
		}
	}
	return nil
}

func alterConfigsFeature(ctx context.Context, e *env, c *client, d driver, topic string) error {
	if err := e.createTopic(ctx, topic, 1, map[string]string{"retention.ms": "3600000"}); err != nil {
		return err
	}
	if err := d.alterConfigs(ctx, topic, map[string]string{"retention.ms": "7200000", "cleanup.policy": "compact"}); err != nil {
		return fmt.Errorf("alter configs: %w", err)
	}
	info, err := e.broker.Engine.Topic(topic)
	if err != nil {
		return err
	}
	if info.Config.RetentionMs != 7200000 || !info.Config.Compacts() {
		return fmt.Errorf("after alter, retention.ms is %d and cleanup.policy %q, want 7200000 and compact", info.Config.RetentionMs, info.Config.CleanupPolicy)
	}
	return nil
}
