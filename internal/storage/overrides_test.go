package storage

import (
	"reflect"
	"testing"
)

// TestOverridesFollowNodeDefaults checks that a topic keeps the configs set
// on it across restarts, including those the engine does not act on, and
// takes the node's current defaults for the others.
func TestOverridesFollowNodeDefaults(t *testing.T) {
	opts := testOptions(t.TempDir())
	e := openTest(t, opts)
	overrides := map[string]string{ConfigRetentionMs: "1000", "segment.bytes": "1048576"}
	config, err := e.TopicDefaults().WithOverrides(overrides)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateTopic("t", 1, config); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TopicDefaults().WithOverrides(map[string]string{ConfigRetentionMs: "x"}); err == nil {
		t.Fatal("retention.ms=x accepted")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	opts.TopicDefaults = DefaultTopicConfig()
	opts.TopicDefaults.RetentionBytes = 5 << 20
	opts.TopicDefaults.RetentionMs = 42
	e = openTest(t, opts)
	info, err := e.Topic("t")
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.RetentionMs != 1000 || info.Config.RetentionBytes != 5<<20 {
		t.Fatalf("retention.ms %d (want the override 1000), retention.bytes %d (want the new default)", info.Config.RetentionMs, info.Config.RetentionBytes)
	}
	if !reflect.DeepEqual(info.Config.Overrides, overrides) {
		t.Fatalf("overrides %v, want %v", info.Config.Overrides, overrides)
	}
	if e.TopicDefaults().Overrides != nil {
		t.Fatal("node defaults carry overrides")
	}
}
