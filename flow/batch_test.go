package flow

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The integration tests of batch mode: events (user, item) counted per
// item in windows of 10 s, after a repartition by item, with final
// results only, over a bounded input; a grace of an hour keeps every
// window open until the input ends, so that the results do not depend
// on the order in which the repartitioned records arrive.

// batchTopology is the tests' topology: "events" grouped by item (a
// repartition topic), counted in tumbling windows, written to
// "item-counts" once per window.
func batchTopology() *Topology {
	top := NewTopology()
	events := Source(top, "events", String(), String())
	byItem := GroupBy(events, func(_, item string) string { return item }, Named("by-item"), WithKeyCodec(String()))
	WindowedBy(byItem, Tumbling(10*time.Second).WithGrace(time.Hour)).
		Count(Named("per-item"), EmitFinal()).ToStream().To("item-counts")
	return top
}

// batchEvent is an event the tests produce.
type batchEvent struct {
	user, item string
	second     int
}

// batchEvents returns n events from second from on, 10 per second.
func batchEvents(n, from int) []batchEvent {
	out := make([]batchEvent, n)
	for i := range out {
		out[i] = batchEvent{user: fmt.Sprint("user-", i%13), item: fmt.Sprint("item-", i%7), second: from + i/10}
	}
	return out
}

// batchReference counts events per item and window, as "item@start".
func batchReference(events []batchEvent) map[string]int64 {
	out := map[string]int64{}
	for _, e := range events {
		out[fmt.Sprintf("%s@%d", e.item, e.second/10*10)]++
	}
	return out
}

// produceEvents writes events to "events", keyed by user.
func produceEvents(t *testing.T, ctx context.Context, addr string, events []batchEvent) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(events))
	for i, e := range events {
		recs[i] = &kgo.Record{Key: []byte(e.user), Value: []byte(e.item), Timestamp: at(e.second)}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// runBatch runs one batch instance until Run returns by itself (the test
// fails if it has not within a minute).
func runBatch(t *testing.T, addr string, g Guarantee, stateDir, name string, batch Batch) <-chan error {
	t.Helper()
	return runBatchOf(t, batchTopology(), "batch", addr, g, stateDir, name, batch)
}

// runBatchOf is runBatch for a topology and application id.
func runBatchOf(t *testing.T, top *Topology, appID, addr string, g Guarantee, stateDir, name string, batch Batch) <-chan error {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("WEIR_FLOW_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("instance", name)
	}
	app, err := New(top, Config{ApplicationID: appID, Brokers: []string{addr}, Guarantee: g, StateDir: stateDir,
		SessionTimeout: 2 * time.Second, TransactionTimeout: 3 * time.Second, CommitInterval: 100 * time.Millisecond,
		Batch: &batch, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	done := make(chan error, 1)
	go func() {
		defer cancel()
		err := app.Run(ctx)
		if ctx.Err() != nil {
			err = fmt.Errorf("instance %s did not end its batch run: %v", name, ctx.Err())
		}
		done <- err
	}()
	return done
}

// readWindowCounts reads "item-counts" (read_committed) from offsets
// (nil: the start) to its end, as "item@start" to count; a window
// written twice fails the test. It returns the end offsets.
func readWindowCounts(t *testing.T, ctx context.Context, addr string, admin *kadm.Client, from map[int32]int64) (map[string]int64, map[int32]int64) {
	t.Helper()
	listed, err := admin.ListEndOffsets(ctx, "item-counts")
	if err != nil {
		t.Fatal(err)
	}
	ends := map[int32]int64{}
	offsets := map[int32]kgo.Offset{}
	listed.Each(func(o kadm.ListedOffset) {
		ends[o.Partition] = o.Offset
		offsets[o.Partition] = kgo.NewOffset().At(from[o.Partition])
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"item-counts": offsets}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	next := maps.Clone(from)
	if next == nil {
		next = map[int32]int64{}
	}
	reached := func() bool {
		for p, end := range ends {
			if next[p] < end {
				return false
			}
		}
		return true
	}
	counts := map[string]int64{}
	for !reached() {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("item-counts: read up to %v of %v", next, ends)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			next[r.Partition] = r.Offset + 1
			if r.Attrs.IsControl() {
				return
			}
			w, err := WindowedCodec(String()).Decode(r.Key)
			if err != nil {
				t.Fatal(err)
			}
			n, err := Int64().Decode(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("%s@%d", w.Key, w.Window.Start.Unix()-at(0).Unix())
			if _, twice := counts[key]; twice {
				t.Errorf("window %s written twice", key)
			}
			counts[key] = n
		})
	}
	return counts, ends
}

// checkCommitted checks that the group's committed offsets of "events"
// are its end offsets, or with until, the offsets of its first records
// at or after it.
func checkCommitted(t *testing.T, ctx context.Context, admin *kadm.Client, until time.Time) {
	t.Helper()
	ends, err := admin.ListEndOffsets(ctx, "events")
	if !until.IsZero() {
		ends, err = admin.ListOffsetsAfterMilli(ctx, until.UnixMilli(), "events")
	}
	if err != nil {
		t.Fatal(err)
	}
	committed, err := admin.FetchOffsets(ctx, "batch")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup("events", o.Partition)
		if !ok || c.At != o.Offset {
			t.Errorf("events/%d: committed %d (found %v), end %d", o.Partition, c.At, ok, o.Offset)
		}
	})
}

// batchBroker starts a broker with "events" and "item-counts", 4
// partitions each.
func batchBroker(t *testing.T, ctx context.Context) (string, *kadm.Client) {
	t.Helper()
	addr := startBroker(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	admin := kadm.NewClient(cl)
	for _, topic := range []string{"events", "item-counts"} {
		if _, err := admin.CreateTopic(ctx, 4, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	return addr, admin
}

func checkCounts(t *testing.T, got, want map[string]int64) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Fatalf("window counts:\ngot  %v\nwant %v", got, want)
	}
}

// TestAppBatch runs the topology in batch mode over 300 events, in three
// runs: up to Batch.Until, then to the end, then after 100 more events
// were produced. Each Run returns by itself, with the final count of
// every window of the run's events written once, the last windows
// included, and the input's offsets committed up to the run's bounds:
// each run processes exactly the events after the last one's.
func TestAppBatch(t *testing.T) {
	eachGuarantee(t, func(t *testing.T, g Guarantee) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		addr, admin := batchBroker(t, ctx)
		stateDir := t.TempDir()
		first := batchEvents(300, 0)
		produceEvents(t, ctx, addr, first)
		// The first run ends before the events of second 20: the
		// records past that bound come in the same fetches as the
		// last ones before it, and are neither processed nor
		// committed.
		until := at(20)
		if err := <-runBatch(t, addr, g, stateDir, "until", Batch{Until: until}); err != nil {
			t.Fatal(err)
		}
		got, ends := readWindowCounts(t, ctx, addr, admin, nil)
		checkCounts(t, got, batchReference(first[:200]))
		checkCommitted(t, ctx, admin, until)

		// The second reads to the end: the events of second 20 on.
		if err := <-runBatch(t, addr, g, stateDir, "first", Batch{}); err != nil {
			t.Fatal(err)
		}
		got, ends = readWindowCounts(t, ctx, addr, admin, ends)
		checkCounts(t, got, batchReference(first[200:]))
		checkCommitted(t, ctx, admin, time.Time{})

		second := batchEvents(100, 100)
		produceEvents(t, ctx, addr, second)
		if err := <-runBatch(t, addr, g, stateDir, "second", Batch{}); err != nil {
			t.Fatal(err)
		}
		got, _ = readWindowCounts(t, ctx, addr, admin, ends)
		checkCounts(t, got, batchReference(second))
		checkCommitted(t, ctx, admin, time.Time{})
	})
}

// TestAppBatchTwoInstances runs two instances of a batch run, exactly
// once, the second joining a moment after the first: both return by
// themselves, and every window's count is written once, exact.
func TestAppBatchTwoInstances(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	addr, admin := batchBroker(t, ctx)
	events := batchEvents(400, 0)
	produceEvents(t, ctx, addr, events)
	first := runBatch(t, addr, ExactlyOnce, t.TempDir(), "a", Batch{})
	time.Sleep(200 * time.Millisecond) // join while the first runs: a rebalance in the run
	second := runBatch(t, addr, ExactlyOnce, t.TempDir(), "b", Batch{})
	for _, done := range []<-chan error{first, second} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	got, _ := readWindowCounts(t, ctx, addr, admin, nil)
	checkCounts(t, got, batchReference(events))
	checkCommitted(t, ctx, admin, time.Time{})
}

// TestAppBatchForeignKey runs a left foreign-key join of orders with
// their customers in batch mode, exactly once. Its sub-topologies read
// each other's repartition topics (subscriptions, responses), but the
// subscriptions come from the orders alone, so their end markers are
// written once the orders have ended, before the task finishes: Run
// returns by itself, and the joined table it wrote is the join of the
// tables.
func TestAppBatchForeignKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	addr := startBroker(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	admin := kadm.NewClient(cl)
	for _, topic := range []string{"orders", "customers", "joined"} {
		if _, err := admin.CreateTopic(ctx, 3, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	top := NewTopology()
	orders := TableOf(top, "orders", String(), String()) // order -> customer
	customers := TableOf(top, "customers", String(), String())
	LeftJoinForeignKey(orders, customers, func(c string) string { return c }, func(_, c, name string, found bool) string {
		if !found {
			name = "?"
		}
		return c + "@" + name
	}, Named("fk"), WithValueCodec(String())).To("joined")

	ordersNow, customersNow := map[string]string{}, map[string]string{}
	var recs []*kgo.Record
	for i := range 300 {
		if i%3 == 0 {
			c := fmt.Sprint("c", i%7) // c5 and c6 only now and then
			customersNow[c] = fmt.Sprint("name", i)
			recs = append(recs, &kgo.Record{Topic: "customers", Key: []byte(c), Value: []byte(customersNow[c]), Timestamp: at(i)})
		} else {
			o, c := fmt.Sprint("o", i%40), fmt.Sprint("c", (i*7)%9) // c7 and c8 never come
			ordersNow[o] = c
			recs = append(recs, &kgo.Record{Topic: "orders", Key: []byte(o), Value: []byte(c), Timestamp: at(i)})
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := <-runBatchOf(t, top, "fk-batch", addr, ExactlyOnce, t.TempDir(), "fk", Batch{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for o, c := range ordersNow {
		name, found := customersNow[c]
		if !found {
			name = "?"
		}
		want[o] = c + "@" + name
	}
	if got := readTable(t, ctx, addr, admin, "joined"); !maps.Equal(got, want) {
		t.Fatalf("joined:\ngot  %v\nwant %v", got, want)
	}
}

// readTable reads a topic (read_committed) to its end as a table: each
// key's last value, tombstones deleting.
func readTable(t *testing.T, ctx context.Context, addr string, admin *kadm.Client, topic string) map[string]string {
	t.Helper()
	listed, err := admin.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	next := map[int32]int64{}
	table := map[string]string{}
	for p, end := range ends {
		for next[p] < end {
			fetches := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("%s: read up to %v of %v", topic, next, ends)
			}
			fetches.EachRecord(func(r *kgo.Record) {
				next[r.Partition] = r.Offset + 1
				switch {
				case r.Attrs.IsControl():
				case r.Value == nil:
					delete(table, string(r.Key))
				default:
					table[string(r.Key)] = string(r.Value)
				}
			})
		}
	}
	return table
}
