package cli

import (
	"bytes"
	"testing"
)

func TestPrintDescribedGroups(t *testing.T) {
	i32 := func(n int32) *int32 { return &n }
	i64 := func(n int64) *int64 { return &n }
	str := func(s string) *string { return &s }
	tests := []struct {
		name  string
		group describedGroup
		want  string
	}{
		{
			name: "a consumer group moving a partition",
			group: describedGroup{
				Group: "audit", Type: "consumer", State: "Reconciling", ProtocolType: "consumer", Protocol: "uniform",
				Epoch: i32(5), AssignmentEpoch: i32(5), Coordinator: 1, Lag: 2,
				Members: []groupMember{
					{MemberID: "m1", InstanceID: str("audit-1"), ClientID: "c1", Host: "/10.0.0.1", MemberEpoch: i32(4),
						Assignment:       []assignedTopic{{"a", []int32{0, 1}}, {"b", []int32{0}}},
						TargetAssignment: []assignedTopic{{"a", []int32{0}}, {"b", []int32{0}}}},
					{MemberID: "m2", ClientID: "c2", Host: "/10.0.0.2", MemberEpoch: i32(5),
						Assignment: []assignedTopic{}, TargetAssignment: []assignedTopic{{"a", []int32{1}}}},
				},
				Offsets: []offsetRow{
					{Topic: "a", Partition: 0, CommittedOffset: i64(3), LogEndOffset: i64(5), Lag: i64(2), MemberID: str("m1")},
					{Topic: "gone", Partition: 0, CommittedOffset: i64(9), Error: "UNKNOWN_TOPIC_OR_PARTITION"},
				},
			},
			want: `Group:             audit
Type:              consumer
State:             Reconciling
Protocol type:     consumer
Protocol:          uniform
Group epoch:       5
Assignment epoch:  5
Coordinator:       1
Members:           2
Lag:               2

MEMBER-ID  INSTANCE-ID  CLIENT-ID  HOST       ASSIGNMENT  TARGET-ASSIGNMENT
m1         audit-1      c1         /10.0.0.1  a:0,1;b:0   a:0;b:0
m2         -            c2         /10.0.0.2  -           a:1

TOPIC  PARTITION  COMMITTED-OFFSET  LOG-END-OFFSET  LAG  MEMBER-ID
a      0          3                 5               2    m1
gone   0          9                 -               -    -
`,
		},
		{
			name: "an empty classic group without offsets",
			group: describedGroup{Group: "idle", Type: "classic", State: "Empty", Coordinator: 1,
				Members: []groupMember{}, Offsets: []offsetRow{}},
			want: `Group:          idle
Type:           classic
State:          Empty
Protocol type:  -
Protocol:       -
Coordinator:    1
Members:        0
Lag:            0
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printDescribedGroups(&out, &connection{output: "table"}, []describedGroup{tt.group}); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", out.String(), tt.want)
			}
		})
	}
}
