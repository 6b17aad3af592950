package cli

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestOffsetRows(t *testing.T) {
	tp := func(topic string, p int32) topicPartition { return topicPartition{topic, p} }
	ranges := listedRanges{
		ranges: map[topicPartition]offsetRange{
			tp("a", 0): {0, 10},
			tp("a", 1): {5, 20}, // retention moved the start
			tp("a", 2): {0, 0},  // empty
			tp("b", 0): {100, 100},
		},
		errs:      map[topicPartition]error{tp("b", 1): kerr.NotLeaderForPartition},
		topicErrs: map[string]error{"gone": kerr.UnknownTopicOrPartition},
	}
	tests := []struct {
		name      string
		assigned  map[topicPartition]string
		committed map[topicPartition]int64
		want      []string // one per row: topic/partition committed end lag member error
		wantTotal int64
	}{
		{
			name:      "committed, behind and caught up",
			assigned:  map[topicPartition]string{tp("a", 0): "m1", tp("a", 1): "m2"},
			committed: map[topicPartition]int64{tp("a", 0): 4, tp("a", 1): 20},
			want:      []string{"a/0 4 10 6 m1 ", "a/1 20 20 0 m2 "},
			wantTotal: 6,
		},
		{
			name:      "assigned without a commit lags by the whole log from its start",
			assigned:  map[topicPartition]string{tp("a", 1): "m1", tp("a", 2): "m1"},
			want:      []string{"a/1 - 20 15 m1 ", "a/2 - 0 0 m1 "},
			wantTotal: 15,
		},
		{
			name:      "committed but unassigned (an empty group)",
			committed: map[topicPartition]int64{tp("b", 0): 90, tp("a", 0): 10},
			want:      []string{"a/0 10 10 0 - ", "b/0 90 100 10 - "},
			wantTotal: 10,
		},
		{
			name:      "a commit before the log start counts from the commit",
			committed: map[topicPartition]int64{tp("a", 1): 2},
			want:      []string{"a/1 2 20 18 - "},
			wantTotal: 18,
		},
		{
			name:      "a commit past the end lags by 0",
			committed: map[topicPartition]int64{tp("a", 0): 15},
			want:      []string{"a/0 15 10 0 - "},
		},
		{
			name:      "offsets that could not be listed leave the lag unknown",
			assigned:  map[topicPartition]string{tp("b", 1): "m1"},
			committed: map[topicPartition]int64{tp("gone", 3): 7, tp("a", 9): 1},
			want: []string{
				"a/9 1 - - - partition not listed",
				"b/1 - - - m1 NOT_LEADER_FOR_PARTITION",
				"gone/3 7 - - - UNKNOWN_TOPIC_OR_PARTITION",
			},
		},
		{name: "nothing", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := offsetRows(tt.assigned, tt.committed, ranges)
			var got []string
			for _, r := range rows {
				member := "-"
				if r.MemberID != nil {
					member = *r.MemberID
				}
				got = append(got, fmt.Sprintf("%s/%d %s %s %s %s %s", r.Topic, r.Partition,
					orDashInt(r.CommittedOffset), orDashInt(r.LogEndOffset), orDashInt(r.Lag), member, r.Error))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("rows:\n got %q\nwant %q", got, tt.want)
			}
			if total := totalLag(rows); total != tt.wantTotal {
				t.Errorf("total lag %d, want %d", total, tt.wantTotal)
			}
		})
	}
}
