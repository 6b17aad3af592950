package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/weir-io/weir/internal/broker"
)

// TestTopicCommands runs the topic commands in sequence against one broker,
// each step checking its output and exit code.
func TestTopicCommands(t *testing.T) {
	addr := startBroker(t, broker.Config{})
	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // substrings of stdout
		wantStderr string   // substring of stderr
	}{
		{"create", []string{"topic", "create", "orders", "--partitions", "3", "--config", "retention.ms=60000", "--config", "cleanup.policy=compact,delete"},
			0, []string{"created topic orders: 3 partitions, replication factor 1"}, ""},
		{"create two", []string{"topic", "create", "a1", "a2", "--partitions", "1"},
			0, []string{"created topic a1: 1 partition,", "created topic a2: 1 partition,"}, ""},
		{"create exists", []string{"topic", "create", "orders"},
			1, nil, "topic orders already exists"},
		{"validate only", []string{"topic", "create", "dry", "--partitions", "2", "--validate-only"},
			0, []string{"validated (nothing created): topic dry: 2 partitions"}, ""},
		{"unknown config", []string{"topic", "create", "bad", "--config", "no.such.config=1"},
			1, nil, "create topic bad: "},
		{"replication factor", []string{"topic", "create", "rf", "--replication-factor", "3"},
			1, nil, "INVALID_REPLICATION_FACTOR"},
		{"list", []string{"topic", "list"},
			0, []string{"TOPIC", "a1      1", "orders  3           1"}, ""},
		{"describe", []string{"topic", "describe", "orders"},
			0, []string{"Topic:               orders", "Partitions:          3", "LOG-END-OFFSET", "retention.ms", "60000", "DYNAMIC_TOPIC_CONFIG", "DEFAULT_CONFIG"}, ""},
		{"describe unknown", []string{"topic", "describe", "nosuch"},
			1, nil, "topic nosuch does not exist"},
		{"alter config", []string{"topic", "alter-config", "orders", "--set", "retention.ms=120000", "--delete", "cleanup.policy"},
			0, []string{"altered configs of topic orders: set retention.ms=120000, deleted cleanup.policy"}, ""},
		{"alter config bad value", []string{"topic", "alter-config", "orders", "--set", "retention.ms=soon"},
			1, nil, "alter configs of topic orders: "},
		{"alter config unknown topic", []string{"topic", "alter-config", "nosuch", "--set", "retention.ms=1"},
			1, nil, "topic nosuch does not exist"},
		{"add partitions", []string{"topic", "add-partitions", "orders", "--total", "5"},
			0, []string{"topic orders now has 5 partitions"}, ""},
		{"add partitions fewer", []string{"topic", "add-partitions", "orders", "--total", "2"},
			1, nil, "INVALID_PARTITIONS"},
		{"delete", []string{"topic", "delete", "a1", "a2"},
			0, []string{"deleted topic a1", "deleted topic a2"}, ""},
		{"delete unknown", []string{"topic", "delete", "a1"},
			1, nil, "topic a1 does not exist"},
	}
	for _, step := range steps {
		r := run(t, "", append(step.args, "-b", addr)...)
		if r.code != step.wantCode {
			t.Fatalf("%s: exit code %d, want %d\nstdout: %s\nstderr: %s", step.name, r.code, step.wantCode, r.stdout, r.stderr)
		}
		for _, want := range step.wantStdout {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: stdout lacks %q:\n%s", step.name, want, r.stdout)
			}
		}
		if !strings.Contains(r.stderr, step.wantStderr) {
			t.Errorf("%s: stderr lacks %q:\n%s", step.name, step.wantStderr, r.stderr)
		}
	}

	// The state the steps left, read back as JSON.
	var list []topicSummary
	decodeJSON(t, mustRun(t, "", "topic", "list", "-b", addr, "--output", "json"), &list)
	if len(list) != 1 || list[0].Topic != "orders" || list[0].Partitions != 5 || list[0].ReplicationFactor != 1 || list[0].ID == "" {
		t.Fatalf("topic list: %+v", list)
	}
	var described []describedTopic
	decodeJSON(t, mustRun(t, "", "topic", "describe", "orders", "-b", addr, "--output", "json"), &described)
	if len(described) != 1 || len(described[0].Partitions) != 5 {
		t.Fatalf("describe: %+v", described)
	}
	for i, p := range described[0].Partitions {
		if p.Partition != int32(i) || p.Leader != 1 || p.LogStartOffset != 0 || p.LogEndOffset != 0 || len(p.Replicas) != 1 || len(p.ISR) != 1 {
			t.Errorf("partition %d: %+v", i, p)
		}
	}
	configs := make(map[string]describedConfig)
	for _, c := range described[0].Configs {
		configs[c.Name] = c
	}
	if c := configs["retention.ms"]; c.Value == nil || *c.Value != "120000" || c.Source != "DYNAMIC_TOPIC_CONFIG" {
		t.Errorf("retention.ms after alter-config: %+v", c)
	}
	if c := configs["cleanup.policy"]; c.Value == nil || *c.Value != "delete" || c.Source != "DEFAULT_CONFIG" {
		t.Errorf("cleanup.policy after --delete: %+v", c)
	}
}

// TestTopicJSONOutput checks the JSON documents of the commands that
// change topics.
func TestTopicJSONOutput(t *testing.T) {
	addr := startBroker(t, broker.Config{})
	var created []createdTopic
	decodeJSON(t, mustRun(t, "", "topic", "create", "events", "--partitions", "2", "-b", addr, "--output", "json"), &created)
	if len(created) != 1 || created[0] != (createdTopic{"events", created[0].ID, 2, 1, false}) || created[0].ID == "" {
		t.Fatalf("create: %+v", created)
	}
	var altered []alteredTopic
	decodeJSON(t, mustRun(t, "", "topic", "alter-config", "events", "--set", "retention.ms=1000", "-b", addr, "--output", "json"), &altered)
	if len(altered) != 1 || altered[0].Set["retention.ms"] != "1000" || len(altered[0].Deleted) != 0 {
		t.Fatalf("alter-config: %+v", altered)
	}
	var grown []grownTopic
	decodeJSON(t, mustRun(t, "", "topic", "add-partitions", "events", "--total", "4", "-b", addr, "--output", "json"), &grown)
	if len(grown) != 1 || grown[0] != (grownTopic{"events", 4}) {
		t.Fatalf("add-partitions: %+v", grown)
	}
	var deleted []deletedTopic
	decodeJSON(t, mustRun(t, "", "topic", "delete", "events", "-b", addr, "--output", "json"), &deleted)
	if len(deleted) != 1 || deleted[0].Topic != "events" {
		t.Fatalf("delete: %+v", deleted)
	}
	var list []topicSummary
	decodeJSON(t, mustRun(t, "", "topic", "list", "-b", addr, "--output", "json"), &list)
	if len(list) != 0 {
		t.Fatalf("list after delete: %+v", list)
	}
}

// decodeJSON decodes one JSON document, failing the test on any error.
func decodeJSON(t *testing.T, doc string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(doc), v); err != nil {
		t.Fatalf("decode %q: %v", doc, err)
	}
}
