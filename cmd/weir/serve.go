package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/storage"
	"github.com/weir-io/weir/internal/storage/commitlog"
)

// newServeCommand is `weir serve`: a single node with embedded defaults.
func newServeCommand() *cobra.Command {
	var (
		dataDir    string
		durability string
		cfg        broker.Config
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Weir node: the Kafka protocol on 127.0.0.1:9092, data in ~/.weir/data",
		Long: `Run a single Weir node. With no flags it listens on 127.0.0.1:9092 (nothing is
exposed to the network until you ask) and keeps its data in ~/.weir/data.
SIGINT or SIGTERM stops it gracefully: no new connections, requests in
flight finish, the log is synced and a checkpoint taken.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, dataDir, durability, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", defaultDataDir(), "data directory")
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:9092", "address to listen on for Kafka clients")
	f.StringVar(&cfg.AdvertisedHost, "advertised-host", "", "host clients are told to connect to (default: the listen host)")
	f.Int32Var(&cfg.AdvertisedPort, "advertised-port", 0, "port clients are told to connect to (default: the listen port)")
	f.Int32Var(&cfg.NodeID, "node-id", 1, "this node's id")
	f.StringVar(&durability, "durability", "durable", "fsync policy: durable (fsync before acknowledging acks=all), interval:<duration> or none")
	f.BoolVar(&cfg.DisableAutoCreate, "no-auto-create-topics", false, "refuse to create topics named by producers and consumers (auto.create.topics.enable=false)")
	f.Int32Var(&cfg.DefaultPartitions, "default-partitions", 1, "partitions of auto-created topics (num.partitions)")
	f.Int32Var(&cfg.MaxRequestBytes, "max-request-bytes", 104857600, "largest request accepted (socket.request.max.bytes)")
	return cmd
}

func defaultDataDir() string {
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".weir", "data")
	}
	return "weir-data"
}

func serve(ctx context.Context, dataDir, durability string, cfg broker.Config) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	policy, err := commitlog.ParseDurability(durability)
	if err != nil {
		return err
	}
	engine, err := storage.Open(storage.Options{Dir: dataDir, Durability: policy, Logger: logger})
	if err != nil {
		return fmt.Errorf("open storage: %w", err)
	}
	cfg.Logger = logger
	b, err := broker.Listen(cfg, engine)
	if err != nil {
		engine.Close()
		return err
	}
	logger.Info("weir serving", "listen", b.Addr().String(), "data_dir", dataDir, "durability", policy.String())
	serveErr := b.Serve(ctx)
	logger.Info("stopping: connections closed, closing storage")
	if err := engine.Close(); err != nil {
		return fmt.Errorf("close storage: %w", err)
	}
	return serveErr
}
