package flow

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// changelogApp is word count's App with what opening tasks needs (its
// admin client, internal topics and restore reader), not running: the
// tests open and close its tasks themselves, and produce to its
// changelog.
type changelogApp struct {
	*App
	restores *restoreLog
	admin    *kadm.Client
	producer *kgo.Client
}

func newChangelogApp(t *testing.T, ctx context.Context) *changelogApp {
	t.Helper()
	addr, admin := testBroker(t, ctx, 0)
	restores := &restoreLog{}
	app, err := New(wordCount(), Config{ApplicationID: "wc", Brokers: []string{addr}, StateDir: t.TempDir(),
		OnRestore: restores.report, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	app.admin = admin
	if err := app.setUpTopics(ctx); err != nil {
		t.Fatal(err)
	}
	if app.restorer, err = newChangelogReader([]string{addr}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.restorer.close)
	producer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("changelog-writer"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(producer.Close)
	return &changelogApp{App: app, restores: restores, admin: admin, producer: producer}
}

// write writes counts to partition 0 of the counts store's changelog in
// a transaction, committed or aborted.
func (c *changelogApp) write(t *testing.T, ctx context.Context, commit bool, counts map[string]int64) {
	t.Helper()
	if err := c.producer.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for word, n := range counts {
		v, _ := Int64().Encode(n)
		c.producer.Produce(ctx, &kgo.Record{Topic: ChangelogTopic("wc", "counts"), Partition: 0, Key: []byte(word), Value: v}, nil)
	}
	if err := c.producer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.producer.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatal(err)
	}
}

// open opens task 1_0 (restoring its counts store) and returns the
// restore's last report and the count of word in the store.
func (c *changelogApp) open(t *testing.T, ctx context.Context, word string) (RestoreProgress, int64) {
	t.Helper()
	mark := c.restores.mark()
	id := taskID{sub: 1, partition: 0}
	if err := c.openTasks(ctx, []taskID{id}); err != nil {
		t.Fatal(err)
	}
	done := c.restores.done(mark)
	if len(done) != 1 {
		t.Fatalf("restores done: %v", done)
	}
	c.tasksMu.Lock()
	defer c.tasksMu.Unlock()
	v, found, err := c.tasks[id].stores["counts"].get([]byte(word))
	if err != nil {
		t.Fatal(err)
	}
	n := int64(-1)
	if found {
		n, _ = Int64().Decode(v)
	}
	return done[0], n
}

// close closes the open tasks, setting their checkpoints.
func (c *changelogApp) close() {
	c.tasksMu.Lock()
	defer c.tasksMu.Unlock()
	c.closeTasks(nil, true)
}

// TestRestoreEndsByPosition: a changelog partition that ends with an
// aborted transaction (its records skipped under read_committed, its
// marker not a data record): the restore applies the committed records
// and ends at the partition's end, though no record it applies sits
// there. A second opening restores from the checkpoint: nothing.
func TestRestoreEndsByPosition(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := newChangelogApp(t, ctx)
	committed := map[string]int64{}
	for i := range 10 {
		committed[fmt.Sprintf("w%d", i)] = int64(i + 1)
	}
	c.write(t, ctx, true, committed)
	c.write(t, ctx, false, map[string]int64{"w0": 100, "w1": 100, "w2": 100, "late": 1})
	end := changelogEnds(t, ctx, c.admin)[0]

	p, n := c.open(t, ctx, "w0")
	if p.StartOffset != 0 || p.EndOffset != end || p.Restored != 10 || n != 1 {
		t.Fatalf("restored %+v, w0 = %d; want 10 records from 0 to %d, w0 = 1", p, n, end)
	}
	c.close()
	p, n = c.open(t, ctx, "w9")
	if p.StartOffset != end || p.Restored != 0 || n != 10 {
		t.Fatalf("restored again %+v, w9 = %d; want nothing, from the checkpoint at %d, w9 = 10", p, n, end)
	}
	c.close()
}

// TestCheckpointOutsideChangelog: a checkpoint whose offset the changelog
// no longer has (records deleted after it), or never had (the topic
// recreated, shorter), is not trusted: the state is wiped and restored
// from the changelog's start.
func TestCheckpointOutsideChangelog(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := newChangelogApp(t, ctx)
	c.write(t, ctx, true, map[string]int64{"a": 1, "b": 1})
	c.open(t, ctx, "a")
	c.close()

	// Records deleted past the checkpoint: it is before the log start.
	c.write(t, ctx, true, map[string]int64{"a": 2})
	c.write(t, ctx, true, map[string]int64{"c": 1})
	end := changelogEnds(t, ctx, c.admin)[0]
	// Records can be deleted from a topic that is also cleaned by age.
	altered, err := c.admin.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "cleanup.policy", Value: kadm.StringPtr("compact,delete")}}, ChangelogTopic("wc", "counts"))
	if err == nil {
		_, err = altered.On(ChangelogTopic("wc", "counts"), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	deleted, err := c.admin.DeleteRecords(ctx, kadm.Offsets{ChangelogTopic("wc", "counts"): {0: {At: end - 2}}})
	if err == nil {
		err = deleted.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	p, n := c.open(t, ctx, "b")
	if p.StartOffset != end-2 || n != -1 {
		t.Fatalf("after a deletion: restored %+v, b = %d; want from %d (the log start) with b gone", p, n, end-2)
	}
	c.close()
	if p, n = c.open(t, ctx, "c"); n != 1 {
		t.Fatalf("the record after the deletion was not restored: %+v, c = %d", p, n)
	}
	c.close()

	// The changelog recreated, empty: the checkpoint is past its end.
	topic := ChangelogTopic("wc", "counts")
	if _, err := c.admin.DeleteTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := c.admin.CreateTopic(ctx, 4, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, topic); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the changelog could not be created again")
		case <-time.After(50 * time.Millisecond):
		}
	}
	c.write(t, ctx, true, map[string]int64{"d": 7})
	p, n = c.open(t, ctx, "d")
	if p.StartOffset != 0 || p.Restored != 1 || n != 7 {
		t.Fatalf("after the changelog was recreated: restored %+v, d = %d; want 1 record from 0, d = 7", p, n)
	}
	c.close()
}
