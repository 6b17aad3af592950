package flow

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// An application's metrics count what it did, and its stores can be
// queried: word count over 100 words.
func TestAppMetrics(t *testing.T) {
	addr := startBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("words"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for topic, partitions := range map[string]int32{"words": 2, "counts": 1} {
		if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		cl.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprint("w", i%10))}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	app, err := New(wordCount(), Config{ApplicationID: "metrics", Brokers: []string{addr}, StateDir: t.TempDir(),
		Registerer: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx) }()
	// The count operator sees every word once the repartition topic is
	// read back.
	counted := func() float64 {
		return testutil.ToFloat64(app.metrics.records.WithLabelValues("counts"))
	}
	for counted() < 100 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	// Queryable state, while it runs: each word's count.
	counts := QueryKeyValue(app, "counts", String(), Int64())
	for i := range 10 {
		if n, found, err := counts.Get(fmt.Sprint("w", i)); err != nil || !found || n != 10 {
			t.Errorf("count of w%d: %d, %v, %v", i, n, found, err)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The repartition topic keeps records whatever their age (they carry
	// their event times, maybe old when reprocessing).
	configs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, RepartitionTopic("metrics", "by-word"))
	if err != nil || len(configs) != 1 || configs[0].Err != nil {
		t.Fatalf("describe the repartition topic: %v %v", configs, err)
	}
	for _, c := range configs[0].Configs {
		if c.Key == "retention.ms" && c.MaybeValue() != "-1" {
			t.Errorf("the repartition topic's retention.ms is %s, want -1", c.MaybeValue())
		}
	}
	if got := counted(); got != 100 {
		t.Fatalf("the count operator processed %v records, want 100", got)
	}
	if n := testutil.ToFloat64(app.metrics.commits.WithLabelValues("committed")); n < 1 {
		t.Fatalf("%v commits", n)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range families {
		seen[f.GetName()] = true
	}
	for _, name := range []string{"flow_operator_records_total", "flow_operator_process_seconds", "flow_record_e2e_latency_seconds",
		"flow_watermark_seconds", "flow_consumer_lag_records", "flow_commits_total", "flow_commit_seconds"} {
		if !seen[name] {
			t.Errorf("no %s", name)
		}
	}
}
