package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/flow"
)

// runFlow runs `weir args...` with the flow commands next to the others.
func runFlow(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	root := newTestRoot()
	var stdout, stderr bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(""))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	err := root.ExecuteContext(ctx)
	if err != nil {
		stderr.WriteString("weir: " + err.Error() + "\n")
	}
	return result{stdout.String(), stderr.String(), ExitCode(err)}
}

// mustRunFlow runs a command that must succeed and returns its stdout.
func mustRunFlow(t *testing.T, args ...string) string {
	t.Helper()
	r := runFlow(t, args...)
	if r.code != 0 {
		t.Fatalf("weir %s: exit code %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// flowCluster is a broker and a client of it, for the reset tests.
type flowCluster struct {
	t    *testing.T
	addr string
	cl   *kgo.Client
	adm  *kadm.Client
}

func newFlowCluster(t *testing.T) *flowCluster {
	t.Helper()
	addr := startBroker(t, groupBroker())
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &flowCluster{t, addr, cl, kadm.NewClient(cl)}
}

func (c *flowCluster) context() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	c.t.Cleanup(cancel)
	return ctx
}

// createTopic creates a topic and writes to partition p counts[p]
// records, with timestamps 1000, 1001, ... ms.
func (c *flowCluster) createTopic(topic string, counts ...int) {
	c.t.Helper()
	mustRun(c.t, "", "topic", "create", topic, "--partitions", fmt.Sprint(len(counts)), "-b", c.addr)
	var records []*kgo.Record
	for p, n := range counts {
		for i := range n {
			records = append(records, &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte(fmt.Sprint(i)),
				Timestamp: time.UnixMilli(1000 + int64(i))})
		}
	}
	if len(records) > 0 {
		produceRecords(c.t, c.addr, records...)
	}
}

// commit commits offsets for group, written "topic/partition:offset ...".
func (c *flowCluster) commit(group, offsets string) {
	c.t.Helper()
	var o kadm.Offsets
	for entry := range strings.FieldsSeq(offsets) {
		var partition int32
		var offset int64
		topic, at, _ := strings.Cut(entry, "/") // topic names hold no slash
		if _, err := fmt.Sscanf(at, "%d:%d", &partition, &offset); err != nil {
			c.t.Fatalf("bad offset %q", entry)
		}
		o.AddOffset(topic, partition, offset, -1)
	}
	resp, err := c.adm.CommitOffsets(c.context(), group, o)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		c.t.Fatalf("commit offsets of %s: %v", group, err)
	}
}

// committed returns group's committed offsets as "topic/partition:offset
// ...", in topic and partition order.
func (c *flowCluster) committed(group string) string {
	c.t.Helper()
	resp, err := c.adm.FetchOffsets(c.context(), group)
	if err != nil {
		c.t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	var parts []string
	for _, o := range resp.Sorted() {
		if o.Err != nil {
			c.t.Fatalf("fetch offset of %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		parts = append(parts, fmt.Sprintf("%s/%d:%d", o.Topic, o.Partition, o.At))
	}
	return strings.Join(parts, " ")
}

// topics returns the names of the cluster's topics, sorted. It asks the
// broker each time: kadm answers from the client's cached metadata, which
// does not see a topic deleted by another client.
func (c *flowCluster) topics() []string {
	c.t.Helper()
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(c.context(), c.cl)
	if err != nil {
		c.t.Fatalf("metadata: %v", err)
	}
	var names []string
	for _, topic := range resp.Topics {
		if topic.ErrorCode != 0 || topic.Topic == nil {
			c.t.Fatalf("metadata of topic %v: error %d", topic.Topic, topic.ErrorCode)
		}
		names = append(names, *topic.Topic)
	}
	slices.Sort(names)
	return names
}

// exists reports whether path exists.
func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// checkOutput fails the test unless out holds each of want, in order.
func checkOutput(t *testing.T, what, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("%s: output lacks %q (in order):\n%s", what, w, out)
		}
		rest = rest[i+len(w):]
	}
}

// TestFlowReset resets an application with an input topic, an
// intermediate topic, two internal topics and a state directory, next to
// topics and a directory that are not its own: refused while the
// application runs, printed by a dry run that changes nothing, done, then
// done again with nothing left to do.
func TestFlowReset(t *testing.T) {
	c := newFlowCluster(t)
	const app = "wordcount"
	changelog, repartition := flow.ChangelogTopic(app, "counts"), flow.RepartitionTopic(app, "words")
	c.createTopic("words", 5, 3)
	c.createTopic("by-user", 4)
	c.createTopic(changelog, 2)
	c.createTopic(repartition, 3)
	// Not the application's: another application's changelog, a name
	// that only looks like one.
	c.createTopic("other-"+app+"-x-changelog", 1)
	c.createTopic(app+"-changelog-not", 1)
	allTopics := c.topics()

	stateDir := t.TempDir()
	appDir, otherDir := flow.AppStateDir(stateDir, app), flow.AppStateDir(stateDir, "other")
	for _, dir := range []string{filepath.Join(appDir, "0_0"), otherDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(appDir, "0_0", "counts.db"), []byte("state"), 0o644); err != nil {
		t.Fatal(err)
	}
	reset := []string{"flow", "reset", app, "--input-topics", "words", "--intermediate-topics", "by-user", "--state-dir", stateDir, "-b", c.addr}
	unchanged := func(what, committed string) {
		t.Helper()
		if got := c.committed(app); got != committed {
			t.Errorf("%s: committed %s, want %s", what, got, committed)
		}
		if got := c.topics(); !slices.Equal(got, allTopics) {
			t.Errorf("%s: topics %v, want %v", what, got, allTopics)
		}
		if !exists(t, appDir) {
			t.Errorf("%s: state directory deleted", what)
		}
	}

	// While the application runs (a member of its group), nothing is done,
	// not even a dry run.
	member := joinGroup(t, c.addr, app, "words", 8, nil)
	for _, args := range [][]string{reset, append(reset, "--dry-run")} {
		r := runFlow(t, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "weir: group wordcount is Stable: offsets can be reset only while it has no members") {
			t.Fatalf("reset of a running application: exit code %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
	}
	unchanged("refused", "")
	leaveGroup(t, member)

	committed := fmt.Sprintf("by-user/0:1 %s/0:2 words/0:4 words/1:1", repartition)
	c.commit(app, committed)

	out := mustRunFlow(t, append(reset, "--dry-run")...)
	checkOutput(t, "dry run", out,
		"group wordcount has no active members\n",
		"TOPIC    PARTITION  ROLE          CURRENT-OFFSET  NEW-OFFSET\n",
		"words    0          input         4               0\n",
		"words    1          input         1               0\n",
		"by-user  0          intermediate  1               4\n",
		"\nwould reset the offsets of group wordcount in 3 partitions\n",
		"would delete internal topic "+changelog+"\n",
		"would delete internal topic "+repartition+"\n",
		"would delete state directory "+appDir+"\n",
		"\ndry run: nothing changed; run again without --dry-run to reset application wordcount\n")
	unchanged("dry run", committed)

	var plan flowReset
	decodeJSON(t, mustRunFlow(t, append(reset, "--dry-run", "--output", "json")...), &plan)
	if !plan.DryRun || plan.OffsetsReset || len(plan.Offsets) != 3 || plan.Offsets[2].Role != intermediateRole ||
		*plan.Offsets[0].CurrentOffset != 4 || plan.Offsets[2].NewOffset != 4 ||
		fmt.Sprint(plan.InternalTopics) != fmt.Sprintf("[{%s false} {%s false}]", changelog, repartition) ||
		plan.StateDir != (flowStateDir{Path: appDir, Exists: true}) {
		t.Fatalf("dry run JSON: %+v", plan)
	}
	unchanged("dry run JSON", committed)

	out = mustRunFlow(t, reset...)
	checkOutput(t, "reset", out,
		"words    0          input         4               0\n",
		"\nreset the offsets of group wordcount in 3 partitions\n",
		"deleted internal topic "+changelog+"\n",
		"deleted internal topic "+repartition+"\n",
		"deleted state directory "+appDir+"\n")
	if strings.Contains(out, "dry run") {
		t.Errorf("reset says dry run:\n%s", out)
	}
	// Deleting the repartition topic deleted the group's offsets of it.
	if got, want := c.committed(app), "by-user/0:4 words/0:0 words/1:0"; got != want {
		t.Errorf("committed after reset: %s, want %s", got, want)
	}
	want := slices.DeleteFunc(slices.Clone(allTopics), func(topic string) bool { return topic == changelog || topic == repartition })
	if got := c.topics(); !slices.Equal(got, want) {
		t.Errorf("topics after reset: %v, want %v", got, want)
	}
	if exists(t, appDir) || !exists(t, otherDir) {
		t.Errorf("after reset: state directory exists %v, other application's %v", exists(t, appDir), exists(t, otherDir))
	}

	// Again: the offsets are set again, nothing else is left to do.
	out = mustRunFlow(t, reset...)
	checkOutput(t, "second reset", out,
		"reset the offsets of group wordcount in 3 partitions\n",
		"no internal topics of application wordcount to delete\n",
		"no state directory "+appDir+" on this machine: nothing to delete here\n")
	decodeJSON(t, mustRunFlow(t, append(reset, "--output", "json")...), &plan)
	if plan.DryRun || !plan.OffsetsReset || len(plan.InternalTopics) != 0 || plan.StateDir != (flowStateDir{Path: appDir}) {
		t.Fatalf("second reset JSON: %+v", plan)
	}
}

// TestFlowResetPositions moves an input topic's offsets with each way of
// choosing them. Partition 0 holds records written 3h, 2h and 1h ago at
// offsets 0-2; partition 1 the same, its first deleted (log start 1).
func TestFlowResetPositions(t *testing.T) {
	c := newFlowCluster(t)
	const app = "positions"
	mustRun(t, "", "topic", "create", "events", "--partitions", "2", "-b", c.addr)
	now := time.Now()
	var records []*kgo.Record
	for p := range int32(2) {
		for _, ago := range []time.Duration{3 * time.Hour, 2 * time.Hour, time.Hour} {
			records = append(records, &kgo.Record{Topic: "events", Partition: p, Value: []byte("v"), Timestamp: now.Add(-ago)})
		}
	}
	produceRecords(t, c.addr, records...)
	var start kadm.Offsets
	start.AddOffset("events", 1, 1, -1)
	deleted, err := c.adm.DeleteRecords(c.context(), start)
	if err == nil {
		err = deleted.Error()
	}
	if err != nil {
		t.Fatalf("delete records: %v", err)
	}
	local := func(ago time.Duration) string { return now.Add(-ago).Local().Format("2006-01-02T15:04:05.000") }
	stateDir := t.TempDir()
	tests := []struct {
		args []string
		want string // the committed offsets after
	}{
		{nil, "events/0:0 events/1:1"}, // --to-earliest, the default
		{[]string{"--to-latest"}, "events/0:3 events/1:3"},
		{[]string{"--to-earliest"}, "events/0:0 events/1:1"},
		{[]string{"--to-offset", "2"}, "events/0:2 events/1:2"},
		{[]string{"--to-offset", "0"}, "events/0:0 events/1:1"},   // before the log start: the start
		{[]string{"--to-offset", "100"}, "events/0:3 events/1:3"}, // past the end: the end
		{[]string{"--to-datetime", now.Add(-150 * time.Minute).UTC().Format(time.RFC3339)}, "events/0:1 events/1:1"},
		{[]string{"--to-datetime", local(90 * time.Minute)}, "events/0:2 events/1:2"},
		{[]string{"--by-duration", "90m"}, "events/0:2 events/1:2"},
		{[]string{"--by-duration", "PT2H30M"}, "events/0:1 events/1:1"},
		{[]string{"--by-duration", "P1D"}, "events/0:0 events/1:1"},
		{[]string{"--by-duration", "30m"}, "events/0:3 events/1:3"}, // no record that recent: the end
	}
	for _, tt := range tests {
		c.commit(app, "events/0:1 events/1:2")
		args := append([]string{"flow", "reset", app, "--input-topics", "events", "--state-dir", stateDir, "-b", c.addr}, tt.args...)
		mustRunFlow(t, args...)
		if got := c.committed(app); got != tt.want {
			t.Errorf("%v: committed %s, want %s", tt.args, got, tt.want)
		}
	}
}

// TestFlowResetErrors runs resets that must stop before changing
// anything, and one with an explicit list of internal topics.
func TestFlowResetErrors(t *testing.T) {
	c := newFlowCluster(t)
	const app = "billing"
	changelog, repartition := flow.ChangelogTopic(app, "totals"), flow.RepartitionTopic(app, "by-account")
	c.createTopic("payments", 3)
	c.createTopic(changelog, 1)
	c.createTopic(repartition, 1)
	c.commit(app, "payments/0:2")
	stateDir := t.TempDir()
	appDir := flow.AppStateDir(stateDir, app)
	base := []string{"flow", "reset", app, "--state-dir", stateDir, "-b", c.addr}
	allTopics := c.topics()

	if err := os.WriteFile(appDir, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"missing input topic", []string{"--input-topics", "payments,nope"}, "weir: input topics: topic nope does not exist\n"},
		{"missing intermediate topic", []string{"--intermediate-topics", "nope"}, "weir: intermediate topics: topic nope does not exist\n"},
		{"missing internal topic", []string{"--internal-topics", app + "-x-changelog"}, "weir: topic billing-x-changelog does not exist\n"},
		{"input topic deleted as internal", []string{"--input-topics", changelog},
			"weir: topic " + changelog + " is an internal topic of application billing, which the reset deletes: it cannot also be an input or intermediate topic\n"},
		{"state directory a file", []string{"--input-topics", "payments"}, "weir: state directory " + appDir + " is not a directory\n"},
	}
	for _, tt := range tests {
		r := runFlow(t, append(base, tt.args...)...)
		if r.code != 1 || r.stderr != tt.wantStderr || r.stdout != "" {
			t.Errorf("%s: exit code %d, want 1\nstdout: %s\nstderr: %s\nwant stderr: %s", tt.name, r.code, r.stdout, r.stderr, tt.wantStderr)
		}
		if got := c.committed(app); got != "payments/0:2" {
			t.Errorf("%s: committed %s", tt.name, got)
		}
		if got := c.topics(); !slices.Equal(got, allTopics) {
			t.Errorf("%s: topics %v, want %v", tt.name, got, allTopics)
		}
	}

	// Only the internal topics named are deleted; --internal-topics ""
	// deletes none.
	if err := os.Remove(appDir); err != nil {
		t.Fatal(err)
	}
	out := mustRunFlow(t, append(base, "--internal-topics", repartition)...)
	checkOutput(t, "explicit internal topics", out,
		"no input or intermediate topics named: no offsets to reset\n",
		"deleted internal topic "+repartition+"\n",
		"no state directory "+appDir+" on this machine")
	if got := c.topics(); slices.Contains(got, repartition) || !slices.Contains(got, changelog) {
		t.Errorf("after deleting %s: topics %v", repartition, got)
	}
	out = mustRunFlow(t, append(base, "--internal-topics", "")...)
	checkOutput(t, "no internal topics", out, "no internal topics of application billing to delete\n")
	if got := c.topics(); !slices.Contains(got, changelog) {
		t.Errorf("--internal-topics \"\" deleted %s: topics %v", changelog, got)
	}
}

// TestFlowResetUsageErrors checks the flags before connecting: every one
// of these is a usage error (exit code 2), with no broker to reach.
func TestFlowResetUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "want one application id, got 0"},
		{[]string{"a", "b"}, "want one application id, got 2"},
		{[]string{"app", "--to-earliest", "--to-latest"}, "--to-earliest and --to-latest exclude each other"},
		{[]string{"app", "--to-offset", "3", "--by-duration", "1h"}, "--to-offset and --by-duration exclude each other"},
		{[]string{"app", "--to-datetime", "2024-05-01T00:00:00Z", "--by-duration", "1h"}, "--to-datetime and --by-duration exclude each other"},
		{[]string{"app", "--to-offset", "-1"}, "--to-offset -1: want an offset (0 or more)"},
		{[]string{"app", "--to-offset", "x"}, `invalid argument "x" for "--to-offset"`},
		{[]string{"app", "--to-datetime", "yesterday"}, `--to-datetime "yesterday"`},
		{[]string{"app", "--by-duration", "-1h"}, `--by-duration "-1h"`},
		{[]string{"app", "--shift-by", "1"}, "unknown flag: --shift-by"},
		{[]string{"../etc", "--dry-run"}, `application id "../etc"`},
		{[]string{"..", "--dry-run"}, `application id ".."`},
		{[]string{"app", "--input-topics", "a,b", "--intermediate-topics", "b"}, "topic b is named both with --input-topics and --intermediate-topics"},
		{[]string{"app", "--input-topics", "a,,b"}, "--input-topics: an empty topic name"},
		{[]string{"app", "--internal-topics", "app-changelog-x"}, "--internal-topics: app-changelog-x is not an internal topic of application app (app-NAME-changelog or app-NAME-repartition)"},
		{[]string{"app", "--internal-topics", "other-x-changelog"}, "is not an internal topic of application app"},
		{[]string{"app", "--state-dir", ""}, "--state-dir: no directory given"},
		{[]string{"app", "--output", "yaml"}, `--output "yaml": want table or json`},
	}
	for _, tt := range tests {
		args := append([]string{"flow", "reset"}, tt.args...)
		r := runFlow(t, append(args, "-b", "127.0.0.1:1")...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%v: exit code %d, want 2\nstdout: %s\nstderr: %s\nwant: %s", tt.args, r.code, r.stdout, r.stderr, tt.want)
		}
	}
	if r := runFlow(t, "flow", "bogus"); r.code != 2 || !strings.Contains(r.stderr, `unknown command "bogus" for "weir flow"`) {
		t.Errorf("flow bogus: exit code %d, stderr %s", r.code, r.stderr)
	}
}
