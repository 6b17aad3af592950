package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-io/weir/internal/bench/kafkabench"
	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/brokertest"
)

// runWeir runs the weir command in this process and returns its stdout.
func runWeir(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.Execute()
	return out.String(), err
}

func TestBenchKafkaCommands(t *testing.T) {
	b := brokertest.Start(t, broker.Config{})
	addr := b.Addr().String()
	jsonFile := filepath.Join(t.TempDir(), "produce.json")
	// --records alone: no time limit, exactly that many records. acks=all:
	// under the durable policy a record is readable once synced, which an
	// acks=1 answer does not wait for, and the consume below must see them.
	out, err := runWeir(t, "bench", "produce", "-b", addr, "--records", "500", "--partitions", "4", "--record-size", "100", "--acks", "all", "--json-file", jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "produced   500 records acknowledged") {
		t.Errorf("produce output:\n%s", out)
	}
	data, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	var produced kafkabench.Result
	if err := json.Unmarshal(data, &produced); err != nil || produced.Produce == nil || produced.Produce.Records != 500 || produced.Config.Duration != 0 {
		t.Fatalf("--json-file holds %s (%v): want 500 records and no duration", data, err)
	}

	out, err = runWeir(t, "bench", "consume", "-b", addr, "--json", "--bytes", "1KiB")
	if err != nil {
		t.Fatal(err)
	}
	var consumed kafkabench.Result
	if err := json.Unmarshal([]byte(out), &consumed); err != nil || consumed.Consume == nil {
		t.Fatalf("--json printed %q (%v)", out, err)
	}
	if c := consumed.Consume; c.Bytes < 1024 || c.Records > 500 {
		t.Errorf("consume --bytes 1KiB read %d records, %d bytes", c.Records, c.Bytes)
	}

	out, err = runWeir(t, "bench", "e2e", "-b", addr, "--records", "300", "--consumers", "2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var e2e kafkabench.Result
	if err := json.Unmarshal([]byte(out), &e2e); err != nil || e2e.EndToEnd == nil || e2e.EndToEnd.Count != 300 {
		t.Fatalf("e2e --json printed %q (%v): want 300 end-to-end latencies", out, err)
	}

	if _, err := runWeir(t, "bench", "produce", "-b", addr, "--records", "10", "--max-inflight", "3"); err == nil {
		t.Error("an idempotent producer accepted --max-inflight 3")
	}
	if _, err := runWeir(t, "bench", "consume", "-b", addr, "--bytes", "lots"); err == nil {
		t.Error("--bytes lots accepted")
	}
}
