package flow

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// enrichTopology joins orders (key: order id, value: customer id) with a
// global table of customers (key: customer id, value: name).
func enrichTopology() *Topology {
	top := NewTopology()
	customers := GlobalTableOf(top, "customers", String(), String())
	orders := Source(top, "orders", String(), String())
	LeftJoinGlobal(orders, customers, func(_, customer string) string { return customer },
		func(order, customer, name string, found bool) string {
			if !found {
				return order + " for unknown " + customer
			}
			return order + " for " + name
		}, WithValueCodec(String())).To("enriched")
	return top
}

func TestGlobalTable(t *testing.T) {
	d := newDriver(t, enrichTopology(), TestConfig{})
	customers := Input(d, "customers", String(), String())
	orders := Input(d, "orders", String(), String())
	for _, step := range []func() error{
		func() error { return customers.Pipe("c1", "ann", at(0)) },
		func() error { return orders.Pipe("o1", "c1", at(1)) },
		func() error { return orders.Pipe("o2", "c2", at(2)) },
		func() error { return customers.Pipe("c2", "bob", at(3)) },
		func() error { return customers.Delete("c1", at(4)) },
		func() error { return orders.Pipe("o3", "c2", at(5)) },
		func() error { return orders.Pipe("o4", "c1", at(6)) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, kv := range readKVs(t, Output(d, "enriched", String(), String())) {
		got = append(got, kv.Value)
	}
	want := []string{"o1 for ann", "o2 for unknown c2", "o3 for bob", "o4 for unknown c1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// Against a broker: the global table's topic has more partitions than the
// stream's (no co-partitioning needed); each instance reads it whole
// before processing.
func TestAppGlobalTable(t *testing.T) {
	addr := startBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	admin := kadm.NewClient(cl)
	for topic, partitions := range map[string]int32{"customers": 3, "orders": 2, "enriched": 1} {
		if _, err := admin.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"c0", "c1", "c2", "c3"} {
		cl.Produce(ctx, &kgo.Record{Topic: "customers", Key: []byte(c), Value: []byte("name-" + c)}, nil)
	}
	for _, o := range []string{"o0:c0", "o1:c1", "o2:c2", "o3:c3", "o4:c9"} {
		cl.Produce(ctx, &kgo.Record{Topic: "orders", Key: []byte(o[:2]), Value: []byte(o[3:])}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	app, err := New(enrichTopology(), Config{ApplicationID: "enrich", Brokers: []string{addr}, StateDir: t.TempDir(),
		SessionTimeout: 2 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	reader, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("enriched"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	got := map[string]bool{}
	for len(got) < 5 && ctx.Err() == nil {
		reader.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
	}
	want := map[string]bool{"o0 for name-c0": true, "o1 for name-c1": true, "o2 for name-c2": true, "o3 for name-c3": true, "o4 for unknown c9": true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
