package metrics

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/brokertest"
	"github.com/weir-io/weir/internal/storage"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// serveMetrics serves m's handler on a free loopback port and returns its
// base URL.
func serveMetrics(t *testing.T, m *Metrics) string {
	t.Helper()
	s, err := Listen("127.0.0.1:0", m.Handler(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("close metrics server: %v", err)
		}
	})
	return "http://" + s.Addr().String()
}

// scrape is one scrape of /metrics, parsed.
type scrape map[string]*dto.MetricFamily

func scrapeMetrics(t *testing.T, base string) scrape {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// metric returns the series of family name whose labels include want, and
// whether there is one.
func (s scrape) metric(name string, want map[string]string) (*dto.Metric, bool) {
	f, ok := s[name]
	if !ok {
		return nil, false
	}
	for _, m := range f.GetMetric() {
		labels := make(map[string]string)
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if match {
			return m, true
		}
	}
	return nil, false
}

// value returns the value of a counter or gauge series, failing the test
// when it is absent.
func (s scrape) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	m, ok := s.metric(name, labelMap(labels))
	if !ok {
		t.Fatalf("no series %s%v", name, labels)
	}
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s is neither a counter nor a gauge", name)
	return 0
}

// histogram returns the count and sum of a histogram series.
func (s scrape) histogram(t *testing.T, name string, labels ...string) (uint64, float64) {
	t.Helper()
	m, ok := s.metric(name, labelMap(labels))
	if !ok || m.GetHistogram() == nil {
		t.Fatalf("no histogram %s%v", name, labels)
	}
	return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
}

func labelMap(pairs []string) map[string]string {
	m := make(map[string]string)
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

// TestMetricsAfterTraffic produces and consumes through a real broker and
// checks what /metrics reports.
func TestMetricsAfterTraffic(t *testing.T) {
	m := New("test")
	b := brokertest.StartWith(t,
		broker.Config{Observer: m.Broker(), DisableAutoCreate: true},
		storage.Options{Dir: t.TempDir(), LogObserver: m.CommitLog()})
	m.WatchStorage(b.Engine)
	t.Cleanup(func() { m.WatchStorage(nil) })
	base := serveMetrics(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr().String()), kgo.DisableIdempotentWrite(),
		kgo.DefaultProduceTopic("metered"), kgo.ConsumeTopics("metered"),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "metered"); err != nil {
		t.Fatal(err)
	}
	const records = 200
	for i := range records {
		r := &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: []byte(strings.Repeat("v", 100))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for got := 0; got < records; {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			t.Fatal(err)
		}
		got += fetches.NumRecords()
	}
	// A metadata request for a topic that does not exist: an error code.
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("missing")
	req.Topics = append(req.Topics, rt)
	if _, err := req.RequestWith(ctx, cl); err != nil {
		t.Fatal(err)
	}

	s := scrapeMetrics(t, base)
	produces := s.value(t, "weir_kafka_requests_total", "api", "Produce")
	if produces < records {
		t.Errorf("Produce requests %v, want at least %d", produces, records)
	}
	if n, sum := s.histogram(t, "weir_kafka_request_duration_seconds", "api", "Produce"); float64(n) != produces || sum <= 0 {
		t.Errorf("Produce latency: %d observations summing %vs for %v requests", n, sum, produces)
	}
	for _, api := range []string{"ApiVersions", "Metadata", "Fetch", "CreateTopics"} {
		if s.value(t, "weir_kafka_requests_total", "api", api) < 1 {
			t.Errorf("no %s request counted", api)
		}
	}
	if n := s.value(t, "weir_kafka_request_errors_total", "api", "Metadata", "error", "UNKNOWN_TOPIC_OR_PARTITION"); n < 1 {
		t.Errorf("Metadata UNKNOWN_TOPIC_OR_PARTITION errors: %v", n)
	}
	if _, ok := s.metric("weir_kafka_request_errors_total", map[string]string{"api": "Produce"}); ok {
		t.Errorf("produce errors counted for produces that succeeded")
	}
	if s.value(t, "weir_kafka_connections_accepted_total") < 1 || s.value(t, "weir_kafka_connections_open") < 1 {
		t.Errorf("connections: accepted %v, open %v", s.value(t, "weir_kafka_connections_accepted_total"), s.value(t, "weir_kafka_connections_open"))
	}

	// Every produced batch is stored as sent: the bytes in are the topic's
	// size, and the consumer read them all.
	in := s.value(t, "weir_topic_bytes_in_total", "topic", "metered")
	size := s.value(t, "weir_topic_size_bytes", "topic", "metered")
	out := s.value(t, "weir_topic_bytes_out_total", "topic", "metered")
	if in < records*100 || in != size || out < in {
		t.Errorf("topic bytes: in %v, size %v, out %v (%d records of 100 bytes)", in, size, out, records)
	}
	if p := s.value(t, "weir_topic_partitions", "topic", "metered"); p != 3 {
		t.Errorf("partitions %v, want 3", p)
	}
	if n := s.value(t, "weir_storage_topics"); n != 3 { // metered, __consumer_offsets, __transaction_state
		t.Errorf("topics %v, want 3", n)
	}
	if disk, live := s.value(t, "weir_storage_log_disk_bytes"), s.value(t, "weir_storage_log_live_bytes"); live < size || disk < live {
		t.Errorf("log disk %v, live %v, topic size %v", disk, live, size)
	}

	// Commit log: every produce waited for an fsync (acks=all, durable).
	if n, _ := s.histogram(t, "weir_commitlog_fsync_duration_seconds"); n < 1 {
		t.Errorf("no fsync observed")
	}
	if _, synced := s.histogram(t, "weir_commitlog_fsync_bytes"); synced < in {
		t.Errorf("fsyncs covered %v bytes, less than the %v produced", synced, in)
	}
	groups, entries := s.histogram(t, "weir_commitlog_write_group_entries")
	if _, written := s.histogram(t, "weir_commitlog_write_group_bytes"); groups < 1 || entries < records || written < in {
		t.Errorf("write groups: %d holding %v entries and %v bytes", groups, entries, written)
	}
	if s.value(t, "weir_commitlog_fsync_errors_total") != 0 {
		t.Errorf("fsync errors counted")
	}
	if s.value(t, "weir_build_info", "version", "test") != 1 {
		t.Errorf("build info")
	}
	if _, ok := s["go_goroutines"]; !ok {
		t.Errorf("no Go runtime metrics")
	}

	// A deleted topic's series go away.
	if _, err := adm.DeleteTopic(ctx, "metered"); err != nil {
		t.Fatal(err)
	}
	s = scrapeMetrics(t, base)
	for _, name := range []string{"weir_topic_bytes_in_total", "weir_topic_bytes_out_total", "weir_topic_size_bytes", "weir_topic_partitions"} {
		if _, ok := s.metric(name, map[string]string{"topic": "metered"}); ok {
			t.Errorf("%s of a deleted topic still reported", name)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestHealthEndpoints(t *testing.T) {
	m := New("test")
	base := serveMetrics(t, m)

	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	// A new node is not ready: storage is not open, nothing listens.
	code, body := get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "storage: not open") || !strings.Contains(body, "kafka_listener: not listening") {
		t.Errorf("/readyz of a new node: %d %q", code, body)
	}
	m.Readiness().Set(Storage, nil)
	if code, body := get(t, base+"/readyz"); code != http.StatusServiceUnavailable || strings.Contains(body, "storage") {
		t.Errorf("/readyz with storage open: %d %q", code, body)
	}
	m.Readiness().Set(KafkaListener, nil)
	if code, body := get(t, base+"/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz when ready: %d %q", code, body)
	}
	// A failed fsync makes the node not ready for good.
	m.CommitLog().Synced(time.Millisecond, 0, fmt.Errorf("injected"))
	code, body = get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "commit_log: fsync failed") {
		t.Errorf("/readyz after a failed fsync: %d %q", code, body)
	}
	if n := scrapeMetrics(t, base).value(t, "weir_commitlog_fsync_errors_total"); n != 1 {
		t.Errorf("fsync errors %v, want 1", n)
	}
	if code, _ := get(t, base+"/nothing"); code != http.StatusNotFound {
		t.Errorf("/nothing: %d", code)
	}
}

func TestServedErrors(t *testing.T) {
	m := New("test")
	o := m.Broker()
	o.Served(broker.Served{Key: kmsg.Produce.Int16(), Latency: time.Millisecond,
		ErrorCodes: []int16{3, 10}}) // UNKNOWN_TOPIC_OR_PARTITION, MESSAGE_TOO_LARGE
	o.Served(broker.Served{Key: kmsg.Produce.Int16(), Latency: time.Millisecond, ErrorCodes: []int16{3}})
	o.Served(broker.Served{Key: kmsg.Fetch.Int16(), Latency: time.Millisecond, Failed: true})
	o.Served(broker.Served{Key: kmsg.Fetch.Int16(), Latency: time.Millisecond, ErrorCodes: []int16{-12345}})
	s := scrapeMetrics(t, serveMetrics(t, m))
	for _, c := range []struct {
		api, err string
		want     float64
	}{
		{"Produce", "UNKNOWN_TOPIC_OR_PARTITION", 2},
		{"Produce", "MESSAGE_TOO_LARGE", 1},
		{"Fetch", "connection_closed", 1},
		{"Fetch", "UNKNOWN", 1},
	} {
		if got := s.value(t, "weir_kafka_request_errors_total", "api", c.api, "error", c.err); got != c.want {
			t.Errorf("%s %s errors: %v, want %v", c.api, c.err, got, c.want)
		}
	}
	if got := s.value(t, "weir_kafka_requests_total", "api", "Produce"); got != 2 {
		t.Errorf("Produce requests %v, want 2", got)
	}
}

func TestProfilesServed(t *testing.T) {
	m := New("test")
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine profile") {
		t.Fatalf("pprof: %d %.200s", resp.StatusCode, body)
	}
}
