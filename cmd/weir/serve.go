package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/config"
	"github.com/weir-io/weir/internal/metrics"
	"github.com/weir-io/weir/internal/storage"
)

// newServeCommand is `weir serve`: a single node, configured by a file,
// the environment and flags (internal/config), with embedded defaults.
func newServeCommand() *cobra.Command {
	var (
		flags       *config.Flags
		printConfig bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Weir node: the Kafka protocol on 127.0.0.1:9092, data in ~/.weir/data",
		Long: `Run a single Weir node. With no configuration it listens on 127.0.0.1:9092
(nothing is exposed to the network until you ask), keeps its data in
~/.weir/data, and serves /metrics, /healthz and /readyz on 127.0.0.1:9644.

Every setting can be given in a YAML file (--config or WEIR_CONFIG), as a
WEIR_* environment variable or as a flag; a flag beats a variable, which
beats the file. The flags below name their variables; docs/configuration.md
lists every setting, and --print-config writes the configuration in effect.

SIGINT or SIGTERM stops the node gracefully: no new connections, requests in
flight finish, the log is synced and a checkpoint taken. A second signal
ends it at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.Load(os.LookupEnv)
			if err != nil {
				return err
			}
			if printConfig {
				_, err := cmd.OutOrStdout().Write(cfg.YAML())
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// After the first signal, the next one gets the default
			// action: the process ends.
			context.AfterFunc(ctx, stop)
			return serve(ctx, cfg, flags.File(os.LookupEnv), os.Stderr)
		},
	}
	cmd.Flags().SortFlags = false // the table's order, which groups them
	cmd.Flags().BoolVar(&printConfig, "print-config", false, "write the configuration in effect as a YAML config file, and exit")
	flags = config.AddFlags(cmd.Flags())
	return cmd
}

var (
	errShuttingDown = errors.New("shutting down")
	errClosing      = errors.New("closing")
)

// serve runs a node until ctx ends. The metrics listener starts first, so
// that /healthz answers and /readyz says why not while storage recovers.
func serve(ctx context.Context, cfg config.Config, configFile string, logs io.Writer) error {
	logger := cfg.Logger(logs)
	logger.Info("weir starting", "version", version, "config", configFile)
	m := metrics.New(version)
	metricsAddr := "off"
	if cfg.MetricsListen != "" {
		srv, err := metrics.Listen(cfg.MetricsListen, m.Handler(), logger)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		defer closeMetrics(srv, logger)
		metricsAddr = srv.Addr().String()
	}

	opts := cfg.Storage()
	opts.Logger, opts.LogObserver = logger, m.CommitLog()
	engine, err := storage.Open(opts)
	if err != nil {
		return fmt.Errorf("open storage: %w", err)
	}
	m.WatchStorage(engine)
	m.Readiness().Set(metrics.Storage, nil)
	closeEngine := func() error {
		m.Readiness().Set(metrics.Storage, errClosing)
		m.WatchGroups(nil, nil)
		m.WatchTransactions(nil)
		m.WatchStorage(nil) // waits for a scrape reading the engine
		return engine.Close()
	}

	bcfg := cfg.Broker()
	bcfg.Logger, bcfg.Observer = logger, m.Broker()
	b, err := broker.Listen(bcfg, engine)
	if err == nil {
		m.WatchGroups(b.Groups(), engine)
		m.WatchTransactions(b.Txn())
	}
	if err != nil {
		closeEngine()
		return err
	}
	m.Readiness().Set(metrics.KafkaListener, nil)
	context.AfterFunc(ctx, func() { m.Readiness().Set(metrics.KafkaListener, errShuttingDown) })
	logger.Info("weir serving", "listen", b.Addr().String(), "metrics_listen", metricsAddr,
		"data_dir", cfg.DataDir, "durability", cfg.Durability.String())
	serveErr := b.Serve(ctx)
	logger.Info("stopping: connections closed, closing storage")
	if err := closeEngine(); err != nil {
		return fmt.Errorf("close storage: %w", err)
	}
	logger.Info("weir stopped")
	return serveErr
}

// closeMetrics stops the metrics listener, giving scrapes in flight a
// moment to finish.
func closeMetrics(srv *metrics.Server, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		logger.Warn("closing the metrics listener", "err", err)
	}
}
