package kafkabench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/brokertest"
)

// testConfig is a small run against b: every workload stops on a record
// count, never on time.
func testConfig(b *brokertest.Broker) Config {
	cfg := DefaultConfig()
	cfg.Brokers = []string{b.Addr().String()}
	cfg.Partitions = 4
	cfg.Producers = 2
	cfg.Consumers = 2
	cfg.RecordSize = 256
	cfg.Duration = 0
	cfg.Records = 2000
	cfg.BufferedRecords = 300
	cfg.Linger = time.Millisecond
	cfg.Progress = nil
	return cfg
}

// checkProduced checks that every record sent was acknowledged and
// measured.
func checkProduced(t *testing.T, p *ProduceResult, want int64, recordSize int) {
	t.Helper()
	if p == nil {
		t.Fatal("no produce result")
	}
	if p.Errors != 0 {
		t.Errorf("produce errors %d: %v", p.Errors, p.ErrorSamples)
	}
	if p.Sent != want || p.Records != want {
		t.Errorf("sent %d, acknowledged %d: want %d each", p.Sent, p.Records, want)
	}
	if p.Bytes != want*int64(recordSize) {
		t.Errorf("bytes %d: want %d", p.Bytes, want*int64(recordSize))
	}
	if p.Latency.Count != p.Records {
		t.Errorf("produce latency histogram holds %d: want %d", p.Latency.Count, p.Records)
	}
}

// endOffsets returns the sum of the end offsets of the topic, waiting for
// it to reach want (acks=0 answers before the broker has appended).
func endOffsets(t *testing.T, cfg Config, want int64) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(30 * time.Second)
	for {
		listed, err := adm.ListEndOffsets(context.Background(), cfg.Topic)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		listed.Each(func(o kadm.ListedOffset) { sum += o.Offset })
		if sum >= want || time.Now().After(deadline) {
			return sum
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProduceThenConsume(t *testing.T) {
	for _, tc := range []struct {
		acks, compression string
		idempotent        bool
		rate              float64
	}{
		{acks: AcksAll, compression: "none", idempotent: true},
		{acks: AcksAll, compression: "zstd", idempotent: false},
		{acks: AcksLeader, compression: "lz4"},
		{acks: AcksNone, compression: "snappy"},
		{acks: AcksLeader, compression: "gzip", rate: 20_000},
	} {
		t.Run(fmt.Sprintf("acks=%s,%s,rate=%v", tc.acks, tc.compression, tc.rate), func(t *testing.T) {
			b := brokertest.Start(t, broker.Config{})
			cfg := testConfig(b)
			cfg.Acks, cfg.Compression, cfg.Idempotent, cfg.Rate = tc.acks, tc.compression, tc.idempotent, tc.rate
			if !cfg.idempotent() {
				cfg.MaxInflight = 3
			}
			res, err := RunProduce(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkProduced(t, res.Produce, cfg.Records, cfg.RecordSize)
			if !res.Topic.Created || res.Topic.Partitions != cfg.Partitions {
				t.Errorf("topic %+v: want created with %d partitions", res.Topic, cfg.Partitions)
			}
			if got := endOffsets(t, cfg, cfg.Records); got != cfg.Records {
				t.Errorf("end offsets sum to %d: want %d", got, cfg.Records)
			}

			cfg.Records = 0 // consume what is there
			res, err = RunConsume(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			c := res.Consume
			if c.Records != 2000 || c.Expected != 2000 || c.Missing != 0 || c.Errors != 0 {
				t.Errorf("consumed %d of %d expected, %d missing, %d errors %v: want all 2000", c.Records, c.Expected, c.Missing, c.Errors, c.ErrorSamples)
			}
			if c.Bytes != 2000*int64(cfg.RecordSize) {
				t.Errorf("consumed %d bytes: want %d", c.Bytes, 2000*cfg.RecordSize)
			}
			if c.StoppedBy != "end offsets reached" || res.Failed() {
				t.Errorf("stopped by %q, failed %v", c.StoppedBy, res.Failed())
			}
		})
	}
}

func TestConsumeLimits(t *testing.T) {
	b := brokertest.Start(t, broker.Config{})
	cfg := testConfig(b)
	if _, err := RunProduce(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		records, bytes int64
		want           string
	}{
		{name: "records", records: 500, want: errRecordsRead.Error()},
		{name: "bytes", bytes: 100 * 256, want: errBytesRead.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cfg
			cfg.Records, cfg.Bytes = tc.records, tc.bytes
			res, err := RunConsume(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			c := res.Consume
			if c.StoppedBy != tc.want {
				t.Errorf("stopped by %q: want %q", c.StoppedBy, tc.want)
			}
			if c.Records < tc.records || c.Bytes < tc.bytes || c.Records > 2000 {
				t.Errorf("read %d records, %d bytes: want at least %d, %d and at most 2000 records", c.Records, c.Bytes, tc.records, tc.bytes)
			}
			if c.Missing != 0 || res.Failed() {
				t.Errorf("missing %d, failed %v: a limit is not a loss", c.Missing, res.Failed())
			}
		})
	}
}

func TestConsumeMissingTopic(t *testing.T) {
	b := brokertest.Start(t, broker.Config{})
	cfg := testConfig(b)
	cfg.Topic = "absent"
	if _, err := RunConsume(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("consume of a missing topic: %v, want an error saying it does not exist", err)
	}
}

func TestEndToEnd(t *testing.T) {
	for _, acks := range []string{AcksAll, AcksLeader} {
		t.Run("acks="+acks, func(t *testing.T) {
			b := brokertest.Start(t, broker.Config{})
			cfg := testConfig(b)
			cfg.Acks = acks
			// Records already in the topic are before the consumers'
			// start: they must be neither counted nor measured.
			if _, err := RunProduce(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
			// With acks=1 the high watermark (the end offset) follows the
			// acknowledgement once the log has synced: wait for it, so
			// that e2e starts after those records.
			if got := endOffsets(t, cfg, cfg.Records); got != cfg.Records {
				t.Fatalf("end offsets sum to %d after producing %d", got, cfg.Records)
			}
			var progress syncBuffer
			cfg.Progress, cfg.ProgressInterval = &progress, 5*time.Millisecond
			res, err := RunE2E(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkProduced(t, res.Produce, cfg.Records, cfg.RecordSize)
			c := res.Consume
			if c.Records != cfg.Records || c.Expected != cfg.Records || c.Missing != 0 || c.Foreign != 0 || c.Errors != 0 {
				t.Errorf("consumed %d of %d expected, %d missing, %d foreign, %d errors: want all %d", c.Records, c.Expected, c.Missing, c.Foreign, c.Errors, cfg.Records)
			}
			if res.EndToEnd == nil || res.EndToEnd.Count != cfg.Records {
				t.Errorf("end-to-end histogram %+v: want %d latencies", res.EndToEnd, cfg.Records)
			}
			if e := res.EndToEnd; e != nil && (e.P50 > e.P99 || e.P99 > e.Max || e.Max <= 0) {
				t.Errorf("end-to-end percentiles out of order: %+v", e)
			}
			if res.Failed() {
				t.Error("result says failed")
			}
			if got := endOffsets(t, cfg, 2*cfg.Records); got != 2*cfg.Records {
				t.Errorf("end offsets sum to %d: want %d", got, 2*cfg.Records)
			}
			for _, line := range strings.Split(strings.TrimSpace(progress.String()), "\n") {
				if line != "" && !strings.HasPrefix(line, "e2e ") {
					t.Errorf("progress line %q", line)
				}
			}
		})
	}
}

func TestResultJSONAndText(t *testing.T) {
	b := brokertest.Start(t, broker.Config{})
	cfg := testConfig(b)
	cfg.Records = 300
	res, err := RunE2E(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("the JSON result does not parse: %v\n%s", err, buf.String())
	}
	if back.Workload != WorkloadE2E || back.Produce == nil || back.Consume == nil || back.EndToEnd == nil {
		t.Fatalf("parsed result lacks parts: %+v", back)
	}
	if back.Produce.Records != 300 || back.Consume.Records != 300 || back.EndToEnd.Count != 300 || back.Produce.Latency.Count != 300 {
		t.Errorf("parsed counts: produced %d, consumed %d, e2e %d, produce latency %d: want 300 each",
			back.Produce.Records, back.Consume.Records, back.EndToEnd.Count, back.Produce.Latency.Count)
	}
	if back.EndToEnd.P99 != res.EndToEnd.P99 || back.Config.Topic != cfg.Topic {
		t.Errorf("parsed result differs: %+v", back)
	}
	var raw map[string]any
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	produce, _ := raw["produce"].(map[string]any)
	latency, _ := produce["latency"].(map[string]any)
	for _, key := range []string{"p50_ns", "p90_ns", "p99_ns", "p99_9_ns", "max_ns", "count"} {
		if _, ok := latency[key]; !ok {
			t.Errorf("produce.latency.%s missing from the JSON", key)
		}
	}
	buf.Reset()
	if err := res.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"produced   300 records", "consumed   300 records", "end-to-end latency p50", "produce errors 0"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text result lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestProduceErrorsAreCounted(t *testing.T) {
	b := brokertest.Start(t, broker.Config{})
	cfg := testConfig(b)
	cfg.Records = 200
	// A topic whose max.message.bytes no batch of these records fits:
	// the broker answers MESSAGE_TOO_LARGE to every produce.
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	limit := "200"
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), cfg.Partitions, -1, map[string]*string{"max.message.bytes": &limit}, cfg.Topic); err != nil {
		t.Fatal(err)
	}
	res, err := RunProduce(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := res.Produce
	if p.Sent != cfg.Records || p.Errors != cfg.Records || p.Records != 0 || p.Latency.Count != 0 {
		t.Errorf("sent %d, errors %d, acknowledged %d, latencies %d: want %d sent, all failed", p.Sent, p.Errors, p.Records, p.Latency.Count, cfg.Records)
	}
	if len(p.ErrorSamples) == 0 || !strings.Contains(p.ErrorSamples[0].Error, "MESSAGE_TOO_LARGE") {
		t.Errorf("error samples %v: want MESSAGE_TOO_LARGE", p.ErrorSamples)
	}
	if !res.Failed() {
		t.Error("a run whose records all failed does not say it failed")
	}
	var text bytes.Buffer
	res.WriteText(&text)
	if !strings.Contains(text.String(), fmt.Sprintf("produce errors %d", cfg.Records)) {
		t.Errorf("text result hides the errors:\n%s", text.String())
	}
}

func TestValidate(t *testing.T) {
	base := DefaultConfig()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		run  func(Config) error
	}{
		{"idempotent with max inflight 3", func(c *Config) { c.MaxInflight = 3 }, Config.validateProduce},
		{"acks 2", func(c *Config) { c.Acks = "2" }, Config.validateProduce},
		{"no stop condition", func(c *Config) { c.Duration, c.Records = 0, 0 }, Config.validateProduce},
		{"unknown compression", func(c *Config) { c.Compression = "brotli" }, Config.validateProduce},
		{"e2e record too small for the stamp", func(c *Config) { c.RecordSize = 4 }, Config.validateE2E},
		{"from the middle", func(c *Config) { c.From = "middle" }, Config.validateConsume},
		{"no consumers", func(c *Config) { c.Consumers = 0 }, Config.validateConsume},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			if err := tc.run(cfg); err == nil {
				t.Error("accepted")
			}
		})
	}
	for name, run := range map[string]func(Config) error{"produce": Config.validateProduce, "consume": Config.validateConsume, "e2e": Config.validateE2E} {
		if err := run(base); err != nil {
			t.Errorf("%s refuses the defaults: %v", name, err)
		}
	}
}

func TestMoreConsumersThanPartitions(t *testing.T) {
	b := brokertest.Start(t, broker.Config{})
	cfg := testConfig(b)
	cfg.Consumers = int(cfg.Partitions) + 1
	if _, err := RunE2E(context.Background(), cfg); err == nil {
		t.Fatal("accepted more consumers than partitions")
	}
}
