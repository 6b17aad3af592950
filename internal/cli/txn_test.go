package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/internal/broker"
)

// txnProducer is a franz-go transactional producer for the tests, writing
// to the partitions its records name.
type txnProducer struct {
	t  *testing.T
	cl *kgo.Client
}

// newTxnProducer starts a producer with transactional id id and the given
// transaction timeout. It is closed when the test ends.
func newTxnProducer(t *testing.T, addr, id string, timeout time.Duration) *txnProducer {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID(id), kgo.TransactionTimeout(timeout),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &txnProducer{t, cl}
}

// begin begins a transaction and writes one record to each partition of
// topic named, and returns without ending it.
func (p *txnProducer) begin(topic string, partitions ...int32) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.cl.BeginTransaction(); err != nil {
		p.t.Fatal(err)
	}
	for _, partition := range partitions {
		r := &kgo.Record{Topic: topic, Partition: partition, Value: []byte(fmt.Sprint("in transaction, partition ", partition))}
		if err := p.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			p.t.Fatalf("produce in a transaction: %v", err)
		}
	}
}

// end commits or aborts the transaction begun.
func (p *txnProducer) end(commit bool) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		p.t.Fatalf("end transaction (commit %v): %v", commit, err)
	}
}

// TestTxnCommands runs the transaction and producer commands while one
// transactional producer has committed a transaction and another has one
// open, and again once it is committed.
func TestTxnCommands(t *testing.T) {
	addr := startBroker(t, broker.Config{})
	mustRun(t, "", "topic", "create", "orders", "--partitions", "3", "-b", addr)
	committer := newTxnProducer(t, addr, "committer", 30*time.Second)
	committer.begin("orders", 0, 0)
	committer.end(true) // orders/0: records at 0 and 1, the marker at 2
	writer := newTxnProducer(t, addr, "writer", 45*time.Second)
	writer.begin("orders", 0, 1) // orders/0 from offset 3, orders/1 from 0

	var listed []listedTxn
	decodeJSON(t, mustRun(t, "", "txn", "list", "-b", addr, "--output", "json"), &listed)
	if len(listed) != 2 || listed[0].TransactionalID != "committer" || listed[0].State != "CompleteCommit" ||
		listed[1].TransactionalID != "writer" || listed[1].State != "Ongoing" || listed[0].ProducerID == listed[1].ProducerID {
		t.Fatalf("list: %+v", listed)
	}
	committerID, writerID := listed[0].ProducerID, listed[1].ProducerID

	var described []describedTxn
	decodeJSON(t, mustRun(t, "", "txn", "describe", "writer", "committer", "-b", addr, "--output", "json"), &described)
	if len(described) != 2 {
		t.Fatalf("describe: %+v", described)
	}
	w, c := described[0], described[1]
	if w.TransactionalID != "writer" || w.State != "Ongoing" || w.ProducerID != writerID || w.ProducerEpoch < 0 ||
		w.TimeoutMillis != 45000 || w.StartTimestamp == nil || time.Since(time.UnixMilli(*w.StartTimestamp)) > testTimeout ||
		formatAssignment(w.Partitions) != "orders:0,1" {
		t.Errorf("describe writer: %+v", w)
	}
	if c.TransactionalID != "committer" || c.State != "CompleteCommit" || c.ProducerID != committerID ||
		c.TimeoutMillis != 30000 || len(c.Partitions) != 0 {
		t.Errorf("describe committer: %+v", c)
	}

	var producers []partitionProducers
	decodeJSON(t, mustRun(t, "", "producer", "describe", "orders", "-b", addr, "--output", "json"), &producers)
	if got := producerSummary(producers); got != fmt.Sprintf("orders/0:[%d:1:- %d:0:3] orders/1:[%d:0:0] orders/2:[]", committerID, writerID, writerID) {
		t.Errorf("producer describe: %s (producer:last sequence:transaction start)", got)
	}

	runSteps(t, addr, []groupStep{
		{name: "list", args: []string{"txn", "list"}, wantStdout: []string{
			"TRANSACTIONAL-ID  STATE           PRODUCER-ID\n",
			fmt.Sprintf("committer         CompleteCommit  %d\n", committerID),
			fmt.Sprintf("writer            Ongoing         %d\n", writerID)}},
		{name: "list by state", args: []string{"txn", "list", "--state", "ongoing"},
			wantStdout: []string{"writer"}, notStdout: []string{"committer"}},
		{name: "list by states", args: []string{"txn", "list", "--state", "Empty,CompleteCommit", "--state", "PrepareCommit"},
			wantStdout: []string{"committer"}, notStdout: []string{"writer"}},
		{name: "list by producer id", args: []string{"txn", "list", "--producer-id", fmt.Sprint(committerID)},
			wantStdout: []string{"committer"}, notStdout: []string{"writer"}},
		{name: "list by duration", args: []string{"txn", "list", "--duration", "1h"},
			wantStdout: []string{"TRANSACTIONAL-ID"}, notStdout: []string{"committer", "writer"}},
		{name: "describe table", args: []string{"txn", "describe", "writer"}, wantStdout: []string{
			"Transactional ID:  writer\n", "State:             Ongoing\n", fmt.Sprintf("Producer ID:       %d\n", writerID),
			"Timeout:           45s\n", "Started:           20", " ago)\n", "Partitions:        2\n",
			"TOPIC   PARTITIONS\norders  0,1\n"}},
		{name: "describe one that does not exist", args: []string{"txn", "describe", "nosuch", "committer"}, wantCode: 1,
			wantStdout: []string{"Transactional ID:  committer\n", "State:             CompleteCommit\n", "Started:"},
			notStdout:  []string{"nosuch"}, wantStderr: "weir: transactional id nosuch does not exist\n"},
		{name: "producer table", args: []string{"producer", "describe", "orders:1,2"}, wantStdout: []string{
			"TOPIC   PARTITION  PRODUCER-ID  EPOCH  LAST-SEQUENCE  LAST-TIMESTAMP  ",
			fmt.Sprintf("orders  1          %d", writerID), "orders  2          -            -      -"},
			notStdout: []string{"orders  0"}},
		{name: "producer of a topic that does not exist", args: []string{"producer", "describe", "nosuch", "orders:1"}, wantCode: 1,
			wantStdout: []string{fmt.Sprintf("orders  1          %d", writerID)}, wantStderr: "weir: topic nosuch does not exist\n"},
		{name: "producer of a partition that does not exist", args: []string{"producer", "describe", "orders:7"}, wantCode: 1,
			notStdout: []string{"TOPIC"}, wantStderr: "weir: topic orders has no partition 7 (it has 3 partitions)\n"},
	})

	// Once committed, nothing is open.
	writer.end(true)
	runSteps(t, addr, []groupStep{
		{name: "list open after the commit", args: []string{"txn", "list", "--state", "Ongoing"}, notStdout: []string{"writer"}},
		{name: "describe after the commit", args: []string{"txn", "describe", "writer"},
			wantStdout: []string{"State:             CompleteCommit\n", "Partitions:        0\n"}, notStdout: []string{"TOPIC"}},
	})
	decodeJSON(t, mustRun(t, "", "producer", "describe", "orders:0", "-b", addr, "--output", "json"), &producers)
	if got := producerSummary(producers); got != fmt.Sprintf("orders/0:[%d:1:- %d:0:-]", committerID, writerID) {
		t.Errorf("producer describe after the commit: %s", got)
	}
}

// producerSummary writes each partition's producers as
// "topic/partition:[id:last sequence:transaction start ...]".
func producerSummary(partitions []partitionProducers) string {
	var parts []string
	for _, p := range partitions {
		var producers []string
		for _, pr := range p.Producers {
			producers = append(producers, fmt.Sprintf("%d:%s:%s", pr.ProducerID, orDashPtr(pr.LastSequence), orDashPtr(pr.CurrentTxnStartOffset)))
		}
		parts = append(parts, fmt.Sprintf("%s/%d:[%s]", p.Topic, p.Partition, strings.Join(producers, " ")))
	}
	return strings.Join(parts, " ")
}

// TestTxnUsageErrors checks the usage errors of the transaction and
// producer commands: they are found before connecting.
func TestTxnUsageErrors(t *testing.T) {
	refused := closedPort(t)
	tests := []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"txn", "lst"}, `unknown command "lst" for "weir txn" (did you mean list?)`},
		{[]string{"txn", "list", "x"}, "want no arguments"},
		{[]string{"txn", "list", "--state", "Running"}, `--state "Running": want one of Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence`},
		{[]string{"txn", "list", "--producer-id", "-3"}, "--producer-id -3: want a producer id, 0 or more"},
		{[]string{"txn", "list", "--producer-id", "many"}, `invalid argument "many"`},
		{[]string{"txn", "list", "--duration", "-5m"}, "--duration -5m0s: want a duration, not negative"},
		{[]string{"txn", "list", "--duration", "5"}, `invalid argument "5"`},
		{[]string{"txn", "describe"}, "want at least one transactional id"},
		{[]string{"txn", "describe", "a", ""}, "a transactional id may not be empty"},
		{[]string{"producer", "describe"}, "want at least one topic"},
		{[]string{"producer", "describe", "orders:x"}, `"orders:x": want TOPIC or TOPIC:PARTITION,PARTITION,...`},
		{[]string{"producer", "list"}, `unknown command "list" for "weir producer"`},
	}
	for _, tt := range tests {
		r := run(t, "", append(tt.args, "-b", refused)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.wantStderr) {
			t.Errorf("%v: exit code %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.wantStderr)
		}
	}
}
