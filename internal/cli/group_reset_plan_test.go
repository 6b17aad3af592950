package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseResetSpec(t *testing.T) {
	zone := time.FixedZone("UTC+2", 2*3600)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	tests := []struct {
		name    string
		flags   resetFlags
		want    resetSpec
		wantErr string
	}{
		{"earliest", resetFlags{toEarliest: true}, resetSpec{kind: resetToEarliest}, ""},
		{"latest", resetFlags{toLatest: true}, resetSpec{kind: resetToLatest}, ""},
		{"offset", resetFlags{toOffset: 42, toOffsetSet: true}, resetSpec{kind: resetToOffset, offset: 42}, ""},
		{"offset 0", resetFlags{toOffsetSet: true}, resetSpec{kind: resetToOffset}, ""},
		{"negative offset", resetFlags{toOffset: -1, toOffsetSet: true}, resetSpec{}, "--to-offset -1"},
		{"shift back", resetFlags{shiftBy: -10, shiftSet: true}, resetSpec{kind: resetShiftBy, offset: -10}, ""},
		{"datetime UTC", resetFlags{toDatetime: "2024-05-01T10:00:00Z"},
			resetSpec{kind: resetToTime, millis: ms(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))}, ""},
		{"datetime with zone and fraction", resetFlags{toDatetime: "2024-05-01T10:00:00.250+02:00"},
			resetSpec{kind: resetToTime, millis: ms(time.Date(2024, 5, 1, 8, 0, 0, 250e6, time.UTC))}, ""},
		{"datetime local", resetFlags{toDatetime: "2024-05-01T10:00:00"},
			resetSpec{kind: resetToTime, millis: ms(time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC))}, ""},
		{"datetime local as Kafka writes it", resetFlags{toDatetime: "2024-05-01T10:00:00.000"},
			resetSpec{kind: resetToTime, millis: ms(time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC))}, ""},
		{"bad datetime", resetFlags{toDatetime: "yesterday"}, resetSpec{}, `--to-datetime "yesterday"`},
		{"date only", resetFlags{toDatetime: "2024-05-01"}, resetSpec{}, `--to-datetime "2024-05-01"`},
		{"by Go duration", resetFlags{byDuration: "90m"}, resetSpec{kind: resetToTime, millis: ms(now.Add(-90 * time.Minute))}, ""},
		{"by ISO duration", resetFlags{byDuration: "PT1H30M"}, resetSpec{kind: resetToTime, millis: ms(now.Add(-90 * time.Minute))}, ""},
		{"bad duration", resetFlags{byDuration: "a while"}, resetSpec{}, `--by-duration "a while"`},
		{"nothing", resetFlags{}, resetSpec{}, "say where to move the offsets"},
		{"two", resetFlags{toEarliest: true, shiftBy: 1, shiftSet: true}, resetSpec{}, "--to-earliest and --shift-by exclude each other"},
		{"three", resetFlags{toLatest: true, toDatetime: "2024-05-01T10:00:00Z", byDuration: "1h"}, resetSpec{},
			"--to-latest and --to-datetime and --by-duration exclude each other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseResetSpec(tt.flags, now, zone)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseResetDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration // -1: an error
	}{
		{"1h", time.Hour},
		{"1h30m", 90 * time.Minute},
		{"0s", 0},
		{"PT1H", time.Hour},
		{"pt15m", 15 * time.Minute},
		{"P2D", 48 * time.Hour},
		{"P1DT12H", 36 * time.Hour},
		{"PT0.5S", 500 * time.Millisecond},
		{"PT1H2M3S", time.Hour + 2*time.Minute + 3*time.Second},
		{"PT0S", 0},
		{"-1h", -1},
		{"", -1},
		{"P", -1},
		{"PT", -1},
		{"P1DT", -1},
		{"P1W", -1}, // Java's Duration has no weeks either
		{"PT1.5H", -1},
		{"P1000000000D", -1}, // past what a time.Duration holds
		{"1 hour", -1},
	}
	for _, tt := range tests {
		got, err := parseResetDuration(tt.in)
		switch {
		case tt.want < 0 && err == nil:
			t.Errorf("%q: %v, want an error", tt.in, got)
		case tt.want >= 0 && (err != nil || got != tt.want):
			t.Errorf("%q: %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestPlanReset(t *testing.T) {
	a0, a1, b0 := topicPartition{"a", 0}, topicPartition{"a", 1}, topicPartition{"b", 0}
	st := resetState{
		committed: map[topicPartition]int64{a0: 15, b0: 3},
		ranges:    map[topicPartition]offsetRange{a0: {10, 20}, a1: {0, 8}, b0: {5, 5}},
		atTime:    map[topicPartition]int64{a0: 12, a1: -1, b0: 5},
	}
	all := []topicPartition{a0, a1, b0}
	tests := []struct {
		name    string
		spec    resetSpec
		parts   []topicPartition
		want    string // "topic/partition current->new" per partition
		wantErr string
	}{
		{"earliest", resetSpec{kind: resetToEarliest}, all, "a/0 15->10 a/1 -->0 b/0 3->5", ""},
		{"latest", resetSpec{kind: resetToLatest}, all, "a/0 15->20 a/1 -->8 b/0 3->5", ""},
		{"offset within, before the start, past the end", resetSpec{kind: resetToOffset, offset: 7}, all, "a/0 15->10 a/1 -->7 b/0 3->5", ""},
		{"shift back", resetSpec{kind: resetShiftBy, offset: -3}, []topicPartition{a0}, "a/0 15->12", ""},
		{"shift back past the start", resetSpec{kind: resetShiftBy, offset: -100}, []topicPartition{a0}, "a/0 15->10", ""},
		{"shift forward past the end", resetSpec{kind: resetShiftBy, offset: 100}, []topicPartition{a0}, "a/0 15->20", ""},
		{"shift an old commit up to the start", resetSpec{kind: resetShiftBy, offset: 1}, []topicPartition{b0}, "b/0 3->5", ""},
		{"shift without overflow", resetSpec{kind: resetShiftBy, offset: 1<<63 - 1}, []topicPartition{a0}, "a/0 15->20", ""},
		{"shift without a commit", resetSpec{kind: resetShiftBy, offset: 1}, all, "", "cannot shift the offset of topic a partition 1: the group has committed none"},
		{"time, and no record that recent", resetSpec{kind: resetToTime, millis: 1}, all, "a/0 15->12 a/1 -->8 b/0 3->5", ""},
		{"a partition without a range", resetSpec{kind: resetToEarliest}, []topicPartition{{"c", 0}}, "", "no log offsets listed for topic c partition 0"},
		{"nothing to plan", resetSpec{kind: resetToEarliest}, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := planReset(tt.spec, tt.parts, st)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range plan {
				got = append(got, fmt.Sprintf("%s/%d %s->%d", p.Topic, p.Partition, orDashInt(p.CurrentOffset), p.NewOffset))
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("plan %q, want %q", strings.Join(got, " "), tt.want)
			}
		})
	}
}
