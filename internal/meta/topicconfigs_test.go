package meta

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestTopicConfigTable(t *testing.T) {
	if !slices.IsSortedFunc(topicConfigs, func(a, b TopicConfig) int { return strings.Compare(a.Name, b.Name) }) {
		t.Fatal("topicConfigs is not sorted by name")
	}
	for _, c := range topicConfigs {
		if err := c.Validate(c.Default); err != nil {
			t.Errorf("%s: the default is invalid: %v", c.Name, err)
		}
		if c.Doc == "" || c.Type == 0 {
			t.Errorf("%s: no doc or type", c.Name)
		}
		if got, ok := LookupTopicConfig(c.Name); !ok || got.Name != c.Name {
			t.Errorf("lookup %s: %v %v", c.Name, got.Name, ok)
		}
	}
}

func TestNormalizeTopicConfigs(t *testing.T) {
	got, err := NormalizeTopicConfigs(map[string]string{"min.insync.replicas": " 2 ", "cleanup.policy": "compact , delete"})
	if err != nil {
		t.Fatal(err)
	}
	if got["min.insync.replicas"] != "2" || got["cleanup.policy"] != "compact,delete" {
		t.Fatalf("normalized: %v", got)
	}
	if _, err := NormalizeTopicConfigs(map[string]string{"retention.ms": "x"}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("retention.ms=x: %v", err)
	}
}

func TestValidateTopicConfigs(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		ok          bool
	}{
		{"retention.ms", "-1", true},
		{"retention.ms", "-2", false},
		{"retention.ms", "1h", false},
		{"retention.bytes", "1073741824", true},
		{"cleanup.policy", "compact,delete", true},
		{"cleanup.policy", "compact, delete", true},
		{"cleanup.policy", "", false},
		{"cleanup.policy", "forever", false},
		{"max.message.bytes", "2147483648", false},
		{"max.message.bytes", "1000000", true},
		{"min.cleanable.dirty.ratio", "0.1", true},
		{"min.cleanable.dirty.ratio", "1.5", false},
		{"min.insync.replicas", "0", false},
		{"min.insync.replicas", "2", true},
		{"message.timestamp.type", "LogAppendTime", true},
		{"message.timestamp.type", "logappendtime", false},
		{"compression.type", "producer", true},
		{"compression.type", "zstd", false},
		{"preallocate", "TRUE", true},
		{"preallocate", "yes", false},
		{"remote.storage.enable", "true", false},
		{"leader.replication.throttled.replicas", "0:1,1:1", true},
		{"leader.replication.throttled.replicas", "0-1", false},
		{"segment.bytes", "1048576", true},
		{"no.such.config", "1", false},
	} {
		err := ValidateTopicConfigs(map[string]string{tc.name: tc.value})
		if (err == nil) != tc.ok {
			t.Errorf("%s=%q: %v, want ok=%v", tc.name, tc.value, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s=%q: %v is not ErrInvalidConfig", tc.name, tc.value, err)
		}
	}
}
