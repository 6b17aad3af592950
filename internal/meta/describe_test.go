package meta

import (
	"errors"
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDescribeTopicConfigs(t *testing.T) {
	values := DescribeTopicConfigs(
		map[string]string{"retention.ms": "1000"},
		map[string]string{"retention.ms": "604800000", "retention.bytes": "5000", "cleanup.policy": "delete"},
	)
	byName := make(map[string]ConfigValue)
	for _, v := range values {
		byName[v.Name] = v
	}
	for _, want := range []struct {
		name, value string
		source      kmsg.ConfigSource
		synonyms    []string // their names, highest precedence first
	}{
		{"retention.ms", "1000", kmsg.ConfigSourceDynamicTopicConfig, []string{"retention.ms", "log.retention.ms"}},
		{"retention.bytes", "5000", kmsg.ConfigSourceStaticBrokerConfig, []string{"log.retention.bytes", "log.retention.bytes"}},
		{"cleanup.policy", "delete", kmsg.ConfigSourceDefaultConfig, []string{"log.cleanup.policy"}},
		{"follower.replication.throttled.replicas", "", kmsg.ConfigSourceDefaultConfig, []string{"follower.replication.throttled.replicas"}},
	} {
		v, ok := byName[want.name]
		if !ok || v.Value != want.value || v.Source != want.source || len(v.Synonyms) != len(want.synonyms) {
			t.Errorf("%s: %+v, want %q from %v with synonyms %v", want.name, v, want.value, want.source, want.synonyms)
			continue
		}
		for i, s := range v.Synonyms {
			if s.Name != want.synonyms[i] {
				t.Errorf("%s: synonyms %+v, want %v", want.name, v.Synonyms, want.synonyms)
			}
		}
	}
	if len(values) != len(topicConfigs) {
		t.Errorf("%d values for %d configs", len(values), len(topicConfigs))
	}
}

func TestApplyIncremental(t *testing.T) {
	str := func(s string) *string { return &s }
	node := map[string]string{"cleanup.policy": "delete"}
	for _, tc := range []struct {
		name   string
		before map[string]string
		ops    []ConfigOp
		after  map[string]string
		err    error
	}{
		{"set", nil, []ConfigOp{{"retention.ms", kmsg.IncrementalAlterConfigOpSet, str("5")}}, map[string]string{"retention.ms": "5"}, nil},
		{"delete", map[string]string{"retention.ms": "5"}, []ConfigOp{{"retention.ms", kmsg.IncrementalAlterConfigOpDelete, nil}}, map[string]string{}, nil},
		{"append to the node default", nil, []ConfigOp{{"cleanup.policy", kmsg.IncrementalAlterConfigOpAppend, str("compact")}}, map[string]string{"cleanup.policy": "delete,compact"}, nil},
		{"append what is there", map[string]string{"cleanup.policy": "compact"}, []ConfigOp{{"cleanup.policy", kmsg.IncrementalAlterConfigOpAppend, str(" compact ")}}, map[string]string{"cleanup.policy": "compact"}, nil},
		{"subtract", map[string]string{"cleanup.policy": "compact,delete"}, []ConfigOp{{"cleanup.policy", kmsg.IncrementalAlterConfigOpSubtract, str("delete")}}, map[string]string{"cleanup.policy": "compact"}, nil},
		{"append to a long", nil, []ConfigOp{{"retention.ms", kmsg.IncrementalAlterConfigOpAppend, str("1")}}, nil, ErrInvalidConfig},
		{"set without a value", nil, []ConfigOp{{"retention.ms", kmsg.IncrementalAlterConfigOpSet, nil}}, nil, ErrInvalidConfig},
		{"set an unknown name", nil, []ConfigOp{{"no.such", kmsg.IncrementalAlterConfigOpSet, str("1")}}, nil, ErrInvalidConfig},
		{"delete an unknown name", map[string]string{"retention.ms": "5"}, []ConfigOp{{"no.such", kmsg.IncrementalAlterConfigOpDelete, nil}}, map[string]string{"retention.ms": "5"}, nil},
		{"an unknown operation", nil, []ConfigOp{{"retention.ms", 7, str("1")}}, nil, ErrInvalidRequest},
		{"a name twice", nil, []ConfigOp{{"retention.ms", kmsg.IncrementalAlterConfigOpSet, str("1")}, {"retention.ms", kmsg.IncrementalAlterConfigOpDelete, nil}}, nil, ErrInvalidRequest},
	} {
		overrides := maps.Clone(tc.before)
		if overrides == nil {
			overrides = map[string]string{}
		}
		err := ApplyIncremental(overrides, node, tc.ops)
		switch {
		case tc.err != nil && !errors.Is(err, tc.err):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		case tc.err == nil && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err == nil && !maps.Equal(overrides, tc.after):
			t.Errorf("%s: %v, want %v", tc.name, overrides, tc.after)
		}
	}
}
