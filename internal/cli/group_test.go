package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/group"
)

// groupBroker is the configuration of the brokers of the group tests: a
// classic group's first rebalance does not wait for more members to join
// (group.initial.rebalance.delay.ms 0).
func groupBroker() broker.Config {
	return broker.Config{Groups: &group.Config{InitialRebalanceDelay: 0}}
}

// groupStep is one command of a scripted test and what it must print.
type groupStep struct {
	name       string
	args       []string // -b addr is added
	wantCode   int
	wantStdout []string // substrings of stdout
	wantStderr string   // substring of stderr
	notStdout  []string // substrings stdout must not hold
}

func runSteps(t *testing.T, addr string, steps []groupStep) {
	t.Helper()
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
		for _, bad := range step.notStdout {
			if strings.Contains(r.stdout, bad) {
				t.Errorf("%s: stdout holds %q:\n%s", step.name, bad, r.stdout)
			}
		}
		if !strings.Contains(r.stderr, step.wantStderr) {
			t.Errorf("%s: stderr lacks %q:\n%s", step.name, step.wantStderr, r.stderr)
		}
	}
}

// produceOrders creates topic "orders" with three partitions holding 10, 5
// and 4 records, whose timestamps are 1000, 1001, ... ms in each partition.
func produceOrders(t *testing.T, addr string) {
	t.Helper()
	mustRun(t, "", "topic", "create", "orders", "--partitions", "3", "-b", addr)
	var records []*kgo.Record
	for p, n := range []int{10, 5, 4} {
		for i := range n {
			records = append(records, &kgo.Record{Topic: "orders", Partition: int32(p), Value: []byte(fmt.Sprint(i)),
				Timestamp: time.UnixMilli(1000 + int64(i))})
		}
	}
	produceRecords(t, addr, records...)
}

// joinGroup starts a member of group consuming topic: it returns once the
// member has read records records (so it has its assignment) and
// committed the offsets of commit. It commits nothing else, and leaves
// the group when the test ends, if it has not left before.
func joinGroup(t *testing.T, addr, group, topic string, records int, commit map[int32]int64, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ClientID(group + "-client"), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for got := 0; got < records; {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			t.Fatalf("group %s: consume: %v", group, err)
		}
		got += fetches.NumRecords()
	}
	if len(commit) == 0 {
		return cl
	}
	offsets := map[string]map[int32]kgo.EpochOffset{topic: {}}
	for p, o := range commit {
		offsets[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	var commitErr error
	cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		commitErr = err
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil && commitErr == nil {
					commitErr = fmt.Errorf("partition %d: %w", rp.Partition, err)
				}
			}
		}
	})
	if commitErr != nil {
		t.Fatalf("group %s: commit: %v", group, commitErr)
	}
	return cl
}

// leaveGroup makes the member leave its group and waits for the leave.
func leaveGroup(t *testing.T, cl *kgo.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := cl.LeaveGroupContext(ctx); err != nil {
		t.Fatalf("leave group: %v", err)
	}
}

// removeStaticMember stops a member with a group instance id, which does
// not leave its group when it stops (KIP-345), and removes it from the
// group as an administrator would (LeaveGroup by instance id).
func removeStaticMember(t *testing.T, addr string, cl *kgo.Client, group, instance string) {
	t.Helper()
	cl.Close()
	admin, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(admin)
	defer adm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	left, err := adm.LeaveGroup(ctx, kadm.LeaveGroup(group).InstanceIDs(instance))
	if err == nil {
		err = left.Error()
	}
	if err != nil {
		t.Fatalf("remove member %s from group %s: %v", instance, group, err)
	}
}

// describeGroup runs `weir group describe --output json` for one group.
func describeGroup(t *testing.T, addr, group string) describedGroup {
	t.Helper()
	var groups []describedGroup
	decodeJSON(t, mustRun(t, "", "group", "describe", group, "-b", addr, "--output", "json"), &groups)
	if len(groups) != 1 {
		t.Fatalf("describe %s: %d groups", group, len(groups))
	}
	return groups[0]
}

// committedString writes a group's committed offsets as
// "partition:offset ..." of topic "orders", in partition order.
func committedString(g describedGroup) string {
	var parts []string
	for _, r := range g.Offsets {
		if r.Topic == "orders" && r.CommittedOffset != nil {
			parts = append(parts, fmt.Sprintf("%d:%d", r.Partition, *r.CommittedOffset))
		}
	}
	return strings.Join(parts, " ")
}

// TestClassicGroupCommands runs the group commands against a classic
// group: while it has a member (what may not be done then), after the
// member left (resets, offsets deleted), and after it is deleted.
func TestClassicGroupCommands(t *testing.T) {
	addr := startBroker(t, groupBroker())
	produceOrders(t, addr)
	member := joinGroup(t, addr, "billing", "orders", 19, map[int32]int64{0: 7, 1: 5}, kgo.InstanceID("billing-1"))

	// With a member.
	g := describeGroup(t, addr, "billing")
	if g.Type != "classic" || g.State != "Stable" || g.ProtocolType != "consumer" || g.Protocol == "" || g.Epoch != nil || len(g.Members) != 1 {
		t.Fatalf("describe: %+v", g)
	}
	m := g.Members[0]
	if m.ClientID != "billing-client" || m.InstanceID == nil || *m.InstanceID != "billing-1" || m.Host == "" ||
		formatAssignment(m.Assignment) != "orders:0,1,2" || m.MemberEpoch != nil {
		t.Fatalf("member: %+v", m)
	}
	// Partition 2 has no commit: it lags by its whole log.
	var rows []string
	for _, r := range g.Offsets {
		rows = append(rows, fmt.Sprintf("%s/%d %s %s %s %v", r.Topic, r.Partition, orDashInt(r.CommittedOffset), orDashInt(r.LogEndOffset), orDashInt(r.Lag), *r.MemberID == m.MemberID))
	}
	if want := "[orders/0 7 10 3 true orders/1 5 5 0 true orders/2 - 4 4 true]"; fmt.Sprint(rows) != want || g.Lag != 7 {
		t.Fatalf("offsets %v, lag %d; want %s, lag 7", rows, g.Lag, want)
	}
	runSteps(t, addr, []groupStep{
		{name: "list", args: []string{"group", "list"},
			wantStdout: []string{"GROUP    TYPE     STATE   PROTOCOL-TYPE\n", "billing  classic  Stable  consumer\n"}},
		{name: "list by state", args: []string{"group", "list", "--state", "stable", "--type", "classic"},
			wantStdout: []string{"billing"}},
		{name: "list other states", args: []string{"group", "list", "--state", "Empty,Dead"}, notStdout: []string{"billing"}},
		{name: "list other type", args: []string{"group", "list", "--type", "consumer"}, notStdout: []string{"billing"}},
		{name: "describe table", args: []string{"group", "describe", "billing"},
			wantStdout: []string{"Group:          billing\n", "State:          Stable\n", "Members:        1\n", "Lag:            7\n",
				"billing-1    billing-client", "orders:0,1,2\n", "TOPIC   PARTITION  COMMITTED-OFFSET  LOG-END-OFFSET  LAG  MEMBER-ID\n",
				"orders  0          7                 10              3    " + m.MemberID + "\n",
				"orders  2          -                 4               4    " + m.MemberID + "\n"}},
		{name: "describe one that does not exist", args: []string{"group", "describe", "billing", "nosuch"}, wantCode: 1,
			wantStdout: []string{"Group:          billing"}, wantStderr: "weir: group nosuch does not exist\n"},
		{name: "reset refused", args: []string{"group", "reset-offsets", "billing", "--topic", "orders", "--to-earliest"}, wantCode: 1,
			wantStderr: "group billing is Stable: offsets can be reset only while it has no members (Empty); stop its consumers first"},
		{name: "delete refused", args: []string{"group", "delete", "billing"}, wantCode: 1,
			wantStderr: "delete group billing: the group has active members; stop its consumers first (NON_EMPTY_GROUP)"},
		{name: "delete offsets refused", args: []string{"group", "delete-offsets", "billing", "--topic", "orders:0"}, wantCode: 1,
			wantStdout: []string{"orders  0          GROUP_SUBSCRIBED_TO_TOPIC"},
			wantStderr: "delete offset of group billing for topic orders partition 0: "},
	})

	// Without members.
	removeStaticMember(t, addr, member, "billing", "billing-1")
	runSteps(t, addr, []groupStep{
		{name: "list empty", args: []string{"group", "list", "--state", "empty"}, wantStdout: []string{"billing  classic  Empty"}},
		{name: "dry run", args: []string{"group", "reset-offsets", "billing", "--topic", "orders", "--to-earliest"},
			wantStdout: []string{"TOPIC   PARTITION  CURRENT-OFFSET  NEW-OFFSET\n", "orders  0          7               0\n",
				"orders  2          -               0\n", "dry run: nothing committed"}},
	})
	if got := committedString(describeGroup(t, addr, "billing")); got != "0:7 1:5" {
		t.Fatalf("a dry run committed: %s", got)
	}
	for _, step := range []struct {
		args []string
		want string // the committed offsets after
	}{
		{[]string{"--all-topics", "--shift-by", "-2"}, "0:5 1:3"},
		{[]string{"--topic", "orders:2", "--to-offset", "100"}, "0:5 1:3 2:4"}, // past the end: the end
		{[]string{"--topic", "orders:0", "--to-datetime", "1970-01-01T00:00:01.006Z"}, "0:6 1:3 2:4"},
		{[]string{"--topic", "orders", "--by-duration", "PT1H"}, "0:10 1:5 2:4"}, // no record that recent: the end
		{[]string{"--topic", "orders:1", "--to-earliest"}, "0:10 1:0 2:4"},
	} {
		args := append([]string{"group", "reset-offsets", "billing", "--execute", "-b", addr}, step.args...)
		out := mustRun(t, "", args...)
		if !strings.Contains(out, "reset the offsets of group billing in") {
			t.Errorf("%v: %s", step.args, out)
		}
		if got := committedString(describeGroup(t, addr, "billing")); got != step.want {
			t.Fatalf("after %v: committed %s, want %s", step.args, got, step.want)
		}
	}
	var reset resetResult
	decodeJSON(t, mustRun(t, "", "group", "reset-offsets", "billing", "--topic", "orders:0,1", "--to-latest", "-b", addr, "--output", "json"), &reset)
	if reset.Group != "billing" || reset.Executed || len(reset.Offsets) != 2 || *reset.Offsets[1].CurrentOffset != 0 || reset.Offsets[1].NewOffset != 5 {
		t.Fatalf("reset JSON: %+v", reset)
	}

	var deleted deletedOffsets
	decodeJSON(t, mustRun(t, "", "group", "delete-offsets", "billing", "--topic", "orders:1", "-b", addr, "--output", "json"), &deleted)
	if len(deleted.Offsets) != 1 || deleted.Offsets[0].Error != nil {
		t.Fatalf("delete-offsets JSON: %+v", deleted)
	}
	if got := committedString(describeGroup(t, addr, "billing")); got != "0:10 2:4" {
		t.Fatalf("after delete-offsets: %s", got)
	}
	runSteps(t, addr, []groupStep{
		{name: "delete", args: []string{"group", "delete", "billing"}, wantStdout: []string{"deleted group billing\n"}},
		{name: "describe deleted", args: []string{"group", "describe", "billing"}, wantCode: 1, wantStderr: "weir: group billing does not exist\n"},
		{name: "delete deleted", args: []string{"group", "delete", "billing"}, wantCode: 1, wantStderr: "weir: group billing does not exist\n"},
		{name: "list without it", args: []string{"group", "list"}, notStdout: []string{"billing"}},
		// Resetting a group that does not exist creates it.
		{name: "reset a new group", args: []string{"group", "reset-offsets", "fresh", "--topic", "orders", "--to-latest", "--execute"},
			wantStdout: []string{"orders  1          -               5\n"}},
		{name: "list the new group", args: []string{"group", "list"}, wantStdout: []string{"fresh  classic  Empty  -\n"}},
		{name: "describe the new group", args: []string{"group", "describe", "fresh"},
			wantStdout: []string{"Members:        0\n", "Lag:            0\n", "orders  2          4                 4               0    -\n"}},
	})
}

// TestConsumerGroupDescribe describes a KIP-848 consumer group (its
// members heartbeat with ConsumerGroupHeartbeat) next to a classic one.
func TestConsumerGroupDescribe(t *testing.T) {
	addr := startBroker(t, groupBroker())
	produceOrders(t, addr)
	member := joinGroup(t, addr, "audit", "orders", 19, map[int32]int64{0: 10, 1: 1, 2: 4},
		kgo.ServerSideBalancer(), kgo.Balancers(kgo.StickyBalancer()))
	joinGroup(t, addr, "billing", "orders", 19, nil)

	g := describeGroup(t, addr, "audit")
	if g.Type != "consumer" {
		t.Fatalf("group audit is %q: the client did not use KIP-848 (does the broker advertise ConsumerGroupHeartbeat v1?)", g.Type)
	}
	if g.State != "Stable" || g.ProtocolType != "consumer" || g.Protocol != "uniform" || g.Epoch == nil || *g.Epoch < 1 ||
		g.AssignmentEpoch == nil || *g.AssignmentEpoch != *g.Epoch || len(g.Members) != 1 || g.Lag != 4 {
		t.Fatalf("describe: %+v", g)
	}
	m := g.Members[0]
	if m.ClientID != "audit-client" || m.InstanceID != nil || m.MemberEpoch == nil || *m.MemberEpoch != *g.Epoch ||
		formatAssignment(m.Assignment) != "orders:0,1,2" || formatAssignment(m.TargetAssignment) != "orders:0,1,2" {
		t.Fatalf("member: %+v", m)
	}
	runSteps(t, addr, []groupStep{
		{name: "list", args: []string{"group", "list"},
			wantStdout: []string{"audit    consumer  Stable  consumer\n", "billing  classic   Stable  consumer\n"}},
		{name: "list consumer groups", args: []string{"group", "list", "--type", "consumer"}, wantStdout: []string{"audit"}, notStdout: []string{"billing"}},
		{name: "list classic groups", args: []string{"group", "list", "--type", "CLASSIC"}, wantStdout: []string{"billing"}, notStdout: []string{"audit"}},
		{name: "describe both", args: []string{"group", "describe", "audit", "billing"},
			wantStdout: []string{"Group:             audit\n", "Type:              consumer\n", "Group epoch:       ", "Group:          billing\n",
				"orders  1          1                 5               4    " + m.MemberID + "\n"}},
		{name: "reset refused", args: []string{"group", "reset-offsets", "audit", "--all-topics", "--to-earliest"}, wantCode: 1,
			wantStderr: "group audit is Stable"},
	})

	leaveGroup(t, member)
	runSteps(t, addr, []groupStep{
		{name: "reset when empty", args: []string{"group", "reset-offsets", "audit", "--all-topics", "--to-earliest", "--execute"},
			wantStdout: []string{"orders  0          10              0\n"}},
		{name: "delete", args: []string{"group", "delete", "audit"}, wantStdout: []string{"deleted group audit"}},
	})
}

// TestGroupUsageErrors checks the usage errors of the group commands:
// they are found before connecting.
func TestGroupUsageErrors(t *testing.T) {
	refused := closedPort(t)
	tests := []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"group", "lst"}, `unknown command "lst" for "weir group" (did you mean list?)`},
		{[]string{"group", "list", "x"}, "want no arguments"},
		{[]string{"group", "list", "--state", "Sleeping"}, `--state "Sleeping": want one of Empty, Stable`},
		{[]string{"group", "list", "--type", "share"}, `--type "share": want classic or consumer`},
		{[]string{"group", "describe"}, "want at least one group name"},
		{[]string{"group", "delete"}, "want at least one group name"},
		{[]string{"group", "reset-offsets", "g", "--topic", "t"}, "say where to move the offsets"},
		{[]string{"group", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--to-offset", "0"}, "--to-earliest and --to-offset exclude each other"},
		{[]string{"group", "reset-offsets", "g", "--to-latest"}, "say which partitions: --topic TOPIC[:PARTITIONS] or --all-topics"},
		{[]string{"group", "reset-offsets", "g", "--topic", "t", "--all-topics", "--to-latest"}, "--topic and --all-topics exclude each other"},
		{[]string{"group", "reset-offsets", "g", "--topic", "t", "--to-latest", "--dry-run", "--execute"}, "--dry-run and --execute exclude each other"},
		{[]string{"group", "reset-offsets", "g", "--topic", "t:x", "--to-latest"}, `--topic "t:x": partition "x" is not a partition number`},
		{[]string{"group", "reset-offsets", "g", "--topic", "t", "--to-datetime", "soon"}, `--to-datetime "soon"`},
		{[]string{"group", "reset-offsets", "g", "--topic", "t", "--by-duration", "-1h"}, `--by-duration "-1h"`},
		{[]string{"group", "reset-offsets", "g", "--topic", "t", "--shift-by", "many"}, `invalid argument "many"`},
		{[]string{"group", "reset-offsets", "--topic", "t", "--to-latest"}, "want one group name, got 0"},
		{[]string{"group", "delete-offsets", "g"}, "say which offsets: --topic TOPIC[:PARTITIONS]"},
	}
	for _, tt := range tests {
		r := run(t, "", append(tt.args, "-b", refused)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.wantStderr) {
			t.Errorf("%v: exit code %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.wantStderr)
		}
	}
}
