package cli

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseTopicScopes(t *testing.T) {
	tests := []struct {
		in      []string
		want    string
		wantErr string
	}{
		{[]string{"orders"}, "[{orders []}]", ""},
		{[]string{"orders:2,0,1"}, "[{orders [0 1 2]}]", ""},
		{[]string{"orders:1", "orders:0,1", "b"}, "[{orders [0 1]} {b []}]", ""},
		{[]string{"orders:1", "orders"}, "[{orders []}]", ""}, // alone: all partitions
		{[]string{"orders", "orders:1"}, "[{orders []}]", ""},
		{[]string{"orders: 3"}, "[{orders [3]}]", ""},
		{nil, "[]", ""},
		{[]string{""}, "", `--topic "": want TOPIC or TOPIC:PARTITION,PARTITION,...`},
		{[]string{":1"}, "", `--topic ":1"`},
		{[]string{"orders:"}, "", `partition "" is not a partition number`},
		{[]string{"orders:1,x"}, "", `partition "x" is not a partition number`},
		{[]string{"orders:-1"}, "", `partition "-1" is not a partition number`},
		{[]string{"orders:1:2"}, "", `partition "1:2" is not a partition number`},
	}
	for _, tt := range tests {
		got, err := parseTopicScopes(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || scopesString(got) != tt.want {
			t.Errorf("%q: %s, %v; want %s", tt.in, scopesString(got), err, tt.want)
		}
	}
}

func scopesString(scopes []topicScope) string {
	parts := []string{}
	for _, s := range scopes {
		parts = append(parts, fmt.Sprintf("{%s %v}", s.topic, s.partitions))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func partitionsString(tps []topicPartition) string {
	parts := []string{}
	for _, tp := range tps {
		parts = append(parts, fmt.Sprintf("%s/%d", tp.topic, tp.partition))
	}
	return strings.Join(parts, " ")
}

func TestResolveScopes(t *testing.T) {
	existing := map[string][]int32{"a": {0, 1, 2}, "b": {0}}
	committed := map[topicPartition]int64{{"b", 0}: 5, {"a", 1}: 3, {"gone", 4}: 1}
	tests := []struct {
		name       string
		topics     []string
		allTopics  bool
		wantReset  string // or the error
		wantDelete string // or the error; "" when the case has --all-topics
	}{
		{"a topic alone is all its partitions", []string{"a"}, false, "a/0 a/1 a/2", "a/0 a/1 a/2"},
		{"partitions named", []string{"b", "a:2,0"}, false, "a/0 a/2 b/0", "a/0 a/2 b/0"},
		{"all topics are the committed partitions", nil, true, "a/1 b/0 gone/4", ""},
		{"a deleted topic", []string{"gone"}, false, "topic gone does not exist", "gone/4"},
		{"a deleted topic's partition", []string{"gone:4,5"}, false, "topic gone does not exist", "gone/4 gone/5"},
		{"a partition the topic lacks", []string{"a:3"}, false, "topic a has no partition 3 (it has 3 partitions)", "a/3"},
		{"a topic that never was", []string{"never"}, false, "topic never does not exist", "topic never does not exist and the group has no offsets for it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scopes, err := parseTopicScopes(tt.topics)
			if err != nil {
				t.Fatal(err)
			}
			got, err := resolveResetScope(scopes, tt.allTopics, existing, committed)
			if s := resultString(got, err); s != tt.wantReset {
				t.Errorf("reset scope: %s, want %s", s, tt.wantReset)
			}
			if tt.allTopics {
				return
			}
			got, err = resolveDeleteScope(scopes, existing, committed)
			if s := resultString(got, err); s != tt.wantDelete {
				t.Errorf("delete scope: %s, want %s", s, tt.wantDelete)
			}
		})
	}
	if _, err := resolveResetScope(nil, true, existing, nil); err == nil || !strings.Contains(err.Error(), "no committed offsets") {
		t.Errorf("--all-topics without offsets: %v", err)
	}
}

func resultString(tps []topicPartition, err error) string {
	if err != nil {
		return err.Error()
	}
	return partitionsString(tps)
}

func TestParseGroupFilter(t *testing.T) {
	f, err := parseGroupFilter([]string{"stable", "EMPTY", " preparingrebalance"}, []string{"Consumer"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(f.states, f.types) != "[Stable Empty PreparingRebalance] [consumer]" {
		t.Fatalf("filter %+v", f)
	}
	for _, tt := range []struct {
		g    listedGroup
		keep bool
	}{
		{listedGroup{Type: "consumer", State: "Stable"}, true},
		{listedGroup{Type: "consumer", State: "Assigning"}, false},
		{listedGroup{Type: "classic", State: "Stable"}, false},
	} {
		if f.keeps(tt.g) != tt.keep {
			t.Errorf("keeps(%+v) = %v", tt.g, !tt.keep)
		}
	}
	if !(groupFilter{}).keeps(listedGroup{Type: "share", State: "Whatever"}) {
		t.Errorf("the empty filter drops a group")
	}
	if _, err := parseGroupFilter([]string{"Sleeping"}, nil); err == nil || !strings.Contains(err.Error(), `--state "Sleeping": want one of Empty, Stable`) {
		t.Errorf("bad state: %v", err)
	}
	if _, err := parseGroupFilter(nil, []string{"share"}); err == nil || !strings.Contains(err.Error(), `--type "share": want classic or consumer`) {
		t.Errorf("bad type: %v", err)
	}
}
