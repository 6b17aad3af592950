package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestMain lets the test binary run as the weir command, so that tests
// can start it as a real process.
func TestMain(m *testing.M) {
	if os.Getenv("WEIR_TEST_AS_COMMAND") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// weirCommand returns the test binary set up to run as `weir args...`,
// killed if it still runs when the test ends.
func weirCommand(t *testing.T, args ...string) *exec.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "WEIR_TEST_AS_COMMAND=1")
	return cmd
}

// node is a running `weir serve`.
type node struct {
	cmd     *exec.Cmd
	addr    string // Kafka listener
	metrics string // metrics listener
}

// startServe runs `weir serve` on free loopback ports (Kafka and metrics)
// and returns once it serves.
func startServe(t *testing.T, dataDir string) node {
	t.Helper()
	cmd := weirCommand(t, "serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	serving := regexp.MustCompile(`msg="weir serving" listen=(\S+) metrics_listen=(\S+)`)
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		t.Log("weir serve:", lines.Text())
		if m := serving.FindStringSubmatch(lines.Text()); m != nil {
			go func() {
				for lines.Scan() {
				}
			}()
			return node{cmd: cmd, addr: m[1], metrics: m[2]}
		}
	}
	t.Fatalf("weir serve ended before serving: %v", lines.Err())
	return node{}
}

func TestServeRestart(t *testing.T) {
	dataDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	n := startServe(t, dataDir)
	producer, err := kgo.NewClient(kgo.SeedBrokers(n.addr), kgo.DefaultProduceTopic("tour"),
		kgo.DisableIdempotentWrite(), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	var records []*kgo.Record
	for i := range 100 {
		records = append(records, &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("value %d", i))})
	}
	if err := producer.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	producer.Close()

	// SIGTERM: a graceful stop, exit status 0.
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Wait(); err != nil {
		t.Fatalf("weir serve after SIGTERM: %v", err)
	}

	n = startServe(t, dataDir)
	consumer, err := kgo.NewClient(kgo.SeedBrokers(n.addr), kgo.ConsumeTopics("tour"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var got []*kgo.Record
	for len(got) < len(records) {
		fetches := consumer.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			t.Fatal(err)
		}
		got = append(got, fetches.Records()...)
	}
	for i, r := range got {
		if string(r.Value) != fmt.Sprintf("value %d", i) || r.Offset != int64(i) {
			t.Fatalf("after restart, record %d: offset %d %q", i, r.Offset, r.Value)
		}
	}
}

func httpGet(t *testing.T, url string) (int, string) {
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

// TestServeHealthAndMetrics checks the process's HTTP endpoints: ready once
// it serves, and metrics of the requests it served.
func TestServeHealthAndMetrics(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := startServe(t, t.TempDir())
	base := "http://" + n.metrics
	if code, body := httpGet(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz once serving: %d %q", code, body)
	}
	if code, _ := httpGet(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(n.addr), kgo.DefaultProduceTopic("watched"),
		kgo.DisableIdempotentWrite(), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("hello")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	_, body := httpGet(t, base+"/metrics")
	for _, want := range []string{
		`weir_kafka_requests_total{api="Produce"} 1`,
		`weir_topic_partitions{topic="watched"} 1`,
		`weir_commitlog_fsync_duration_seconds_count`,
		`weir_build_info{`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}

	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Wait(); err != nil {
		t.Fatalf("weir serve after SIGTERM: %v", err)
	}
}

// TestServeConfig runs `weir serve --print-config` with a file, a variable
// and a flag, and `weir serve` with bad settings.
func TestServeConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "weir.yaml")
	if err := os.WriteFile(file, []byte("node_id: 4\nnum_partitions: 2\nlog_format: json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := weirCommand(t, "serve", "--print-config", "--num-partitions", "3")
	cmd.Env = append(cmd.Env, "WEIR_CONFIG="+file, "WEIR_NODE_ID=5")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("weir serve --print-config: %v", err)
	}
	for _, want := range []string{"\nnode_id: 5\n", "\nnum_partitions: 3\n", "\nlog_format: json\n", "\nlisten: 127.0.0.1:9092\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--print-config has no %q:\n%s", want, out)
		}
	}

	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"serve", "--config", file, "--listen", "nowhere"}, "", `"nowhere"`},
		{[]string{"serve", "--config", file, "--listen", "127.0.0.1:0"}, "WEIR_LOG_LEVEL=loud", "environment WEIR_LOG_LEVEL"},
		{[]string{"serve", "--config", writeText(t, "listen: 127.0.0.1:0\nmetrics: on\n")}, "", `unknown setting "metrics"`},
	} {
		// Should a bad setting be accepted, the node must not outlive
		// the test, nor take the default ports.
		args := append(c.args, "--data-dir", t.TempDir(), "--metrics-listen", "127.0.0.1:0")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], args...)
		cmd.Env = append(os.Environ(), "WEIR_TEST_AS_COMMAND=1")
		if c.env != "" {
			cmd.Env = append(cmd.Env, c.env)
		}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("weir %v (%s): %v, %q; want an error saying %s", c.args, c.env, err, out, c.want)
		}
	}
}

func writeText(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "weir.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
