package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/examples/nexmark"
	"github.com/weir-io/weir/flow"
)

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	brokers := fs.String("b", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	name := fs.String("query", "q0", "query: q0 ... q8")
	input := fs.String("input", "events", "topic of events")
	output := fs.String("output", "", "topic of the query's rows (default: the query's name)")
	appID := fs.String("app-id", "", "application id (default: nexmark-QUERY)")
	grace := fs.Duration("grace", 0, "how late (in event time) events may come: covers -out-of-order's disorder")
	mergeGrace := fs.Duration("merge-grace", 0, "grace of q5's and q7's merging stages (needed with several partitions)")
	stateDir := fs.String("state-dir", "", "local state directory (default: flow's)")
	atLeastOnce := fs.Bool("at-least-once", false, "process at least once rather than exactly once")
	batch := fs.Bool("batch", false, "batch mode: process the input up to its end as of the start, close every window and auction, and exit")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile of the run to this file")
	logLevel := fs.String("log-level", "warn", "least severe level logged: debug, info, warn, error")
	fs.Parse(args)

	q, err := nexmark.Lookup(*name)
	if err != nil {
		return err
	}
	if *output == "" {
		*output = q.Name
	}
	if *appID == "" {
		*appID = "nexmark-" + q.Name
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return err
	}
	cfg := flow.Config{ApplicationID: *appID, Brokers: strings.Split(*brokers, ","), StateDir: *stateDir,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))}
	if *atLeastOnce {
		cfg.Guarantee = flow.AtLeastOnce
	}
	if *batch {
		cfg.Batch = &flow.Batch{}
	}
	app, err := flow.New(q.Topology(nexmark.Config{Input: *input, Output: *output, Grace: *grace, MergeGrace: *mergeGrace}), cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := createOutput(ctx, cfg.Brokers, *input, *output); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return app.Run(ctx)
}

// createOutput creates the output topic, if missing, with as many
// partitions as the input.
func createOutput(ctx context.Context, brokers []string, input, output string) error {
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer client.Close()
	admin := kadm.NewClient(client)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	details, err := admin.ListTopics(ctx, input)
	if err != nil {
		return err
	}
	d, ok := details[input]
	if !ok || d.Err != nil {
		return fmt.Errorf("input topic %s: not found (%v)", input, d.Err)
	}
	_, err = ensureTopic(ctx, admin, output, int32(len(d.Partitions)))
	return err
}
