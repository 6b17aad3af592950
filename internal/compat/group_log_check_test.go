package compat

import (
	"strings"
	"testing"
)

// TestGroupLogOverlaps checks that the group log finds a partition owned
// by two live members at once, and only then, whatever order the events
// arrive in.
func TestGroupLogOverlaps(t *testing.T) {
	type ev struct {
		member string
		event  string
		time   int64
		parts  []int32
	}
	tests := []struct {
		name   string
		events []ev
		want   string // in the overlap found; "" for none
	}{
		{"handed over", []ev{
			{"a", "assigned", 10, []int32{0, 1}},
			{"a", "revoked", 20, []int32{0, 1}},
			{"b", "assigned", 30, []int32{0, 1}},
		}, ""},
		{"handed over, reported out of order", []ev{
			{"b", "assigned", 30, []int32{0, 1}},
			{"a", "assigned", 10, []int32{0, 1}},
			{"a", "revoked", 20, []int32{0, 1}},
		}, ""},
		{"revoked and assigned at the same time", []ev{
			{"a", "assigned", 10, []int32{0}},
			{"b", "assigned", 20, []int32{0}},
			{"a", "revoked", 20, []int32{0}},
		}, ""},
		{"lost", []ev{
			{"a", "assigned", 10, []int32{0}},
			{"a", "lost", 20, []int32{0}},
			{"b", "assigned", 30, []int32{0}},
		}, ""},
		{"never revoked", []ev{
			{"a", "assigned", 10, []int32{0, 1}},
			{"b", "assigned", 30, []int32{1}},
		}, "partition 1 went to b"},
		{"revoked too late", []ev{
			{"a", "assigned", 10, []int32{2}},
			{"b", "assigned", 30, []int32{2}},
			{"a", "revoked", 31, []int32{2}},
		}, "partition 2 went to b"},
		{"revoked another partition", []ev{
			{"a", "assigned", 10, []int32{0, 1}},
			{"a", "revoked", 20, []int32{0}},
			{"b", "assigned", 30, []int32{0, 1}},
		}, "partition 1 went to b"},
		{"a revocation of someone else's partition", []ev{
			{"a", "assigned", 10, []int32{0}},
			{"b", "revoked", 20, []int32{0}},
			{"b", "assigned", 30, []int32{0}},
		}, "partition 0 went to b"},
		{"incremental", []ev{
			{"a", "assigned", 10, []int32{0, 1, 2}},
			{"b", "assigned", 10, []int32{3}},
			{"a", "revoked", 20, []int32{2}},
			{"b", "assigned", 30, []int32{2}},
			{"a", "assigned", 40, []int32{4}},
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newGroupLog("topic")
			for _, e := range tt.events {
				l.add(e.member, memberEvent{Event: e.event, Time: l.start.UnixMicro() + e.time, Partitions: e.parts})
			}
			s, _ := l.state()
			got := strings.Join(s.overlaps, "; ")
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("overlaps %q, want %q", got, tt.want)
			}
		})
	}
}

// TestGroupLogEnded checks that a member that ended owns nothing, and that
// what it reports later is dropped.
func TestGroupLogEnded(t *testing.T) {
	l := newGroupLog("topic")
	second := int64(1e6)
	l.add("a", memberEvent{Event: "assigned", Time: nowMicros() - second, Partitions: []int32{0, 1}})
	l.end("a")
	l.add("a", memberEvent{Event: "assigned", Time: nowMicros() + second, Partitions: []int32{2}})
	l.add("b", memberEvent{Event: "assigned", Time: nowMicros() + second, Partitions: []int32{0, 1}})
	s, _ := l.state()
	if len(s.overlaps) > 0 {
		t.Errorf("overlaps %v after a ended", s.overlaps)
	}
	if why := s.split(2, []string{"b"}); why != "" {
		t.Error(why)
	}
	if len(s.owned["a"]) > 0 {
		t.Errorf("a owns %v after it ended", s.owned["a"])
	}
}

// TestGroupLogRecords checks what the group log says of consumed records.
func TestGroupLogRecords(t *testing.T) {
	l := newGroupLog("topic")
	l.add("a", memberEvent{Event: "record", Partition: 0, Offset: 0, Value: l.recordValue(0, 0)})
	l.add("a", memberEvent{Event: "record", Partition: 1, Offset: 1, Value: l.recordValue(1, 1)})
	s, _ := l.state()
	if got := s.missing(map[int32]int64{0: 1, 1: 2}); !strings.Contains(got, "1 records not consumed (partition 1 offset 0)") {
		t.Errorf("missing: %q", got)
	}
	l.add("a", memberEvent{Event: "record", Partition: 1, Offset: 0, Value: "something else"})
	s, _ = l.state()
	if len(s.problems) != 1 || !strings.Contains(s.problems[0], `consumed "something else" at partition 1 offset 0`) {
		t.Errorf("problems %q", s.problems)
	}
}
