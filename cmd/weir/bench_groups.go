package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/weir-io/weir/internal/bench/kafkabench"
)

// `weir bench groups` and `weir bench commits`: the consumer-group
// workloads of package kafkabench, against any Kafka-compatible broker.

func newBenchGroupsCommand() *cobra.Command {
	cfg := kafkabench.DefaultGroupsConfig()
	var (
		jsonOut  bool
		jsonFile string
	)
	cmd := &cobra.Command{
		Use:   "groups",
		Short: "Time members joining a consumer group, and the group settling after one leaves",
		Long: `Produce one record to every partition of --topic, start --members
consumers of a new group (franz-go clients, --protocol eager (range),
cooperative (cooperative-sticky) or consumer (KIP-848, assigned by the
broker)) and time until every member owns its share of the partitions (at
least partitions/members, from the clients' assignment callbacks) and every
partition's record was consumed: the join. Then one member leaves (a clean
close), a record is produced to every partition, and the time until the
others own every partition and consumed those records is the leave. The
members refresh metadata at most every 100 ms and long-poll fetches for
100 ms, so that the figures are the group's, not the clients' timers.
Give the topic at least as many partitions as members.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			res, err := kafkabench.RunGroups(ctx, cfg)
			if err != nil {
				return err
			}
			return writeResult(cmd.OutOrStdout(), jsonOut, jsonFile, res.WriteJSON, res.WriteText)
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&cfg.Brokers, "brokers", "b", cfg.Brokers, "seed brokers, host:port, comma-separated")
	f.StringVar(&cfg.Topic, "topic", cfg.Topic, "topic to consume (created when absent)")
	f.Int32Var(&cfg.Partitions, "partitions", cfg.Partitions, "partitions of the topic when it is created")
	f.IntVar(&cfg.Members, "members", cfg.Members, "members of the group")
	f.StringVar(&cfg.Protocol, "protocol", cfg.Protocol, "group protocol: eager, cooperative or consumer (KIP-848)")
	f.DurationVar(&cfg.SessionTimeout, "session-timeout", cfg.SessionTimeout, "members' session timeout (session.timeout.ms)")
	f.DurationVar(&cfg.HeartbeatInterval, "heartbeat-interval", cfg.HeartbeatInterval, "members' heartbeat interval (classic protocols)")
	f.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound on each phase")
	f.BoolVar(&jsonOut, "json", false, "print the result as JSON instead of text")
	f.StringVar(&jsonFile, "json-file", "", "also write the result as JSON to this file")
	return cmd
}

func newBenchCommitsCommand() *cobra.Command {
	cfg := kafkabench.DefaultCommitsConfig()
	var (
		jsonOut  bool
		jsonFile string
	)
	cmd := &cobra.Command{
		Use:   "commits",
		Short: "Measure offset commits per second and their latency over many groups",
		Long: `--committers committers on --clients connections commit offsets of
--groups groups (simple consumers: no members, generation -1) to partition 0
of --topic, each waiting for its answer before the next, for --duration.
Prints commits per second and the commit latency percentiles.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			res, err := kafkabench.RunCommits(ctx, cfg)
			if err != nil {
				return err
			}
			if err := writeResult(cmd.OutOrStdout(), jsonOut, jsonFile, res.WriteJSON, res.WriteText); err != nil {
				return err
			}
			if res.Errors > 0 {
				return fmt.Errorf("commits: %d failed", res.Errors)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&cfg.Brokers, "brokers", "b", cfg.Brokers, "seed brokers, host:port, comma-separated")
	f.StringVar(&cfg.Topic, "topic", cfg.Topic, "topic the offsets are of (created with one partition when absent)")
	f.IntVar(&cfg.Groups, "groups", cfg.Groups, "groups committing")
	f.IntVar(&cfg.Clients, "clients", cfg.Clients, "client connections")
	f.IntVar(&cfg.Committers, "committers", cfg.Committers, "commits in flight at once")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long to commit")
	f.BoolVar(&jsonOut, "json", false, "print the result as JSON instead of text")
	f.StringVar(&jsonFile, "json-file", "", "also write the result as JSON to this file")
	return cmd
}

func newBenchTxnCommand() *cobra.Command {
	cfg := kafkabench.DefaultTxnConfig()
	var (
		jsonOut  bool
		jsonFile string
	)
	cmd := &cobra.Command{
		Use:   "txn",
		Short: "Measure small transactions per second and read_committed end-to-end latency",
		Long: `--producers transactional producers (each its own transactional id) commit
transactions of --records-per-txn records of --record-size bytes, spread
over the partitions of --topic, one after another as fast as they can, for
--duration, while a read_committed consumer reads from the end. Prints
transactions per second, the latency of a whole transaction (begin to
committed) and the end-to-end latency of records as the read_committed
consumer sees them (produce to receipt: the commit and the last stable
offset included).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			res, err := kafkabench.RunTxn(ctx, cfg)
			if err != nil {
				return err
			}
			if err := writeResult(cmd.OutOrStdout(), jsonOut, jsonFile, res.WriteJSON, res.WriteText); err != nil {
				return err
			}
			if res.Errors > 0 {
				return fmt.Errorf("txn: %d transactions failed", res.Errors)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&cfg.Brokers, "brokers", "b", cfg.Brokers, "seed brokers, host:port, comma-separated")
	f.StringVar(&cfg.Topic, "topic", cfg.Topic, "topic written (created when absent)")
	f.Int32Var(&cfg.Partitions, "partitions", cfg.Partitions, "partitions of the topic when it is created")
	f.IntVar(&cfg.Producers, "producers", cfg.Producers, "transactional producers")
	f.IntVar(&cfg.RecordsPerTxn, "records-per-txn", cfg.RecordsPerTxn, "records in each transaction")
	f.IntVar(&cfg.RecordSize, "record-size", cfg.RecordSize, "value size of every record, in bytes (at least 8)")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long to run")
	f.BoolVar(&jsonOut, "json", false, "print the result as JSON instead of text")
	f.StringVar(&jsonFile, "json-file", "", "also write the result as JSON to this file")
	return cmd
}
