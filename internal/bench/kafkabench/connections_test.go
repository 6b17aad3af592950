package kafkabench

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/brokertest"
)

func TestConnections(t *testing.T) {
	b := brokertest.Start(t, broker.Config{})
	cfg := DefaultConnectionsConfig()
	cfg.Broker = b.Addr().String()
	cfg.Count = 50
	cfg.Concurrency = 8
	cfg.Settle = 0
	// The broker runs in this process: its memory is ours.
	cfg.PID = os.Getpid()
	res, err := RunConnections(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Opened != 50 || res.Failed != 0 || res.Answered != 50 {
		t.Errorf("opened %d, failed %d, answered %d: want 50, 0, 50 (%v)", res.Opened, res.Failed, res.Answered, res.ErrorSamples)
	}
	if res.RSSBefore <= 0 || res.RSSAfter <= 0 || res.PeakRSS < res.RSSAfter || res.ThreadsAfter <= 0 {
		t.Errorf("memory not read: %+v", res)
	}
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back ConnectionsResult
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Opened != 50 {
		t.Errorf("JSON result %s: %v", buf.String(), err)
	}
	buf.Reset()
	res.WriteText(&buf)
	if !strings.Contains(buf.String(), "50 opened") {
		t.Errorf("text result:\n%s", buf.String())
	}
}

func TestConnectionsRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	cfg := DefaultConnectionsConfig()
	cfg.Broker, cfg.Count, cfg.Settle = addr, 5, 0
	res, err := RunConnections(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Opened != 0 || res.Failed != 5 || len(res.ErrorSamples) == 0 {
		t.Errorf("opened %d, failed %d, errors %v: want every connection refused and said so", res.Opened, res.Failed, res.ErrorSamples)
	}
}
