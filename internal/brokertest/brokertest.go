// Package brokertest starts a real Weir broker on a free loopback port for
// the tests of other packages (the CLI, the benchmarks, the client
// compatibility suite). It is the real broker over a real storage engine in
// a temporary directory, not a fake.
package brokertest

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/storage"
)

// Broker is a running broker and its engine.
type Broker struct {
	*broker.Broker
	Engine *storage.Engine
	// Dir is the data directory.
	Dir string
}

// Start runs a broker over a fresh engine in t.TempDir(), listening on
// 127.0.0.1 at a free port (cfg.Listen is ignored). The broker stops and
// the engine closes when the test ends. Logs are discarded unless
// cfg.Logger is set.
func Start(t testing.TB, cfg broker.Config) *Broker {
	t.Helper()
	return StartWith(t, cfg, storage.Options{Dir: t.TempDir()})
}

// StartWith is Start with the engine's options (Dir must be set). The
// background cleaner is off unless opts.CleanerInterval is set.
func StartWith(t testing.TB, cfg broker.Config, opts storage.Options) *Broker {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Logger == nil {
		opts.Logger = cfg.Logger
	}
	if opts.CleanerInterval == 0 {
		opts.CleanerInterval = -1
	}
	e, err := storage.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	b, err := broker.Listen(cfg, e)
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- b.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	return &Broker{Broker: b, Engine: e, Dir: opts.Dir}
}
