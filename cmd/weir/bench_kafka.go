package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/weir-io/weir/internal/bench/kafkabench"
)

// The Kafka load generator: `weir bench produce`, `consume`, `e2e` and
// `connections` (see package kafkabench and docs/benchmarks.md). They
// work against any broker that speaks the Kafka protocol.

// kafkaBenchFlags are the flags of produce, consume and e2e.
type kafkaBenchFlags struct {
	cfg      kafkabench.Config
	jsonOut  bool
	jsonFile string
	bytes    string
	cpuProf  string
}

func newBenchProduceCommand() *cobra.Command {
	fl := &kafkaBenchFlags{cfg: kafkabench.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "produce",
		Short: "Produce records to a Kafka-compatible broker as fast as it takes them, or at --rate",
		Long: `Produce records of --record-size bytes to --topic (created with --partitions
partitions if it does not exist) from --producers producers, each a client
of its own, for --duration or until --records records were sent. Prints a
progress line on stderr every second, then throughput and the produce
latency (Produce call to acknowledgement) percentiles. Works against Weir,
Apache Kafka or Redpanda. Exits with an error if any record failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fl.run(cmd, kafkabench.RunProduce)
		},
	}
	fl.addCommon(cmd.Flags())
	fl.addProduce(cmd.Flags())
	return cmd
}

func newBenchConsumeCommand() *cobra.Command {
	fl := &kafkaBenchFlags{cfg: kafkabench.DefaultConfig()}
	fl.cfg.Duration = 0
	cmd := &cobra.Command{
		Use:   "consume",
		Short: "Consume a topic of a Kafka-compatible broker and measure the throughput",
		Long: `Consume --topic, which must exist, with --consumers consumers, each a
client of its own with a share of the partitions (no consumer group). From
earliest (the default) it reads what the topic held when it started, or
less with --records, --bytes or --duration; with --follow, or from latest,
it keeps reading new records until one of those limits or Ctrl-C. To
measure reading 1 GiB already written:
  weir bench produce --records 1048576 --record-size 1024
  weir bench consume --bytes 1GiB`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if fl.cfg.Bytes, err = kafkabench.ParseBytes(fl.bytes); err != nil {
				return fmt.Errorf("--bytes: %w", err)
			}
			return fl.run(cmd, kafkabench.RunConsume)
		},
	}
	f := cmd.Flags()
	fl.addCommon(f)
	fl.addConsume(f)
	f.StringVar(&fl.cfg.From, "from", fl.cfg.From, "where to start: earliest or latest")
	f.BoolVar(&fl.cfg.Follow, "follow", false, "keep reading past the end offsets of the start (until --records, --bytes, --duration or Ctrl-C)")
	f.StringVar(&fl.bytes, "bytes", "0", "stop after this many bytes of keys and values (1GiB, 500MB, ...; 0: no limit)")
	f.Int64Var(&fl.cfg.Records, "records", 0, "stop after this many records (0: no limit)")
	f.DurationVar(&fl.cfg.Duration, "duration", 0, "stop after this long (0: no limit)")
	return cmd
}

func newBenchE2ECommand() *cobra.Command {
	fl := &kafkaBenchFlags{cfg: kafkabench.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "e2e",
		Short: "Produce and consume at once and measure the end-to-end latency",
		Long: `Produce as 'weir bench produce' does while --consumers consumers read the
same topic from the end it had at the start. End-to-end latency is the
time a consumer received a record minus the time stamped in its value when
it was produced, both on this process's monotonic clock. Once the producers
stop, the consumers read up to the topic's end (for at most
--drain-timeout); records they did not get are reported as missing. Use a
--rate below what the broker sustains (half of the produce figure, say):
at full speed the latency measures the queues.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fl.run(cmd, kafkabench.RunE2E)
		},
	}
	f := cmd.Flags()
	fl.addCommon(f)
	fl.addProduce(f)
	fl.addConsume(f)
	f.DurationVar(&fl.cfg.DrainTimeout, "drain-timeout", fl.cfg.DrainTimeout, "how long consumers may take, once the producers are done, to read the last records")
	return cmd
}

func (fl *kafkaBenchFlags) addCommon(f *pflag.FlagSet) {
	f.StringSliceVarP(&fl.cfg.Brokers, "brokers", "b", fl.cfg.Brokers, "seed brokers, host:port, comma-separated")
	f.StringVar(&fl.cfg.Topic, "topic", fl.cfg.Topic, "topic to write and read")
	f.BoolVar(&fl.jsonOut, "json", false, "print the result as JSON instead of text")
	f.StringVar(&fl.jsonFile, "json-file", "", "also write the result as JSON to this file")
	f.StringVar(&fl.cpuProf, "cpu-profile", "", "write a CPU profile of the generator itself to this file (for go tool pprof)")
}

func (fl *kafkaBenchFlags) addProduce(f *pflag.FlagSet) {
	c := &fl.cfg
	f.Int32Var(&c.Partitions, "partitions", c.Partitions, "partitions of the topic when it is created (an existing topic is used as it is)")
	f.Int16Var(&c.ReplicationFactor, "replication-factor", c.ReplicationFactor, "replication factor of the topic when it is created (-1: the broker's default)")
	f.IntVar(&c.RecordSize, "record-size", c.RecordSize, "value size of every record, in bytes")
	f.IntVar(&c.Producers, "producers", c.Producers, "producers, each a client of its own")
	f.StringVar(&c.Acks, "acks", c.Acks, "acks: all, 1 or 0")
	f.BoolVar(&c.Idempotent, "idempotent", c.Idempotent, "with acks=all, an idempotent producer (Kafka's default; at most 5 requests in flight)")
	f.StringVar(&c.Compression, "compression", c.Compression, "compression: "+strings.Join(kafkabench.Compressions, ", "))
	f.Float64Var(&c.Rate, "rate", 0, "target records/s over all producers (0: as fast as possible)")
	f.DurationVar(&c.Duration, "duration", c.Duration, "how long to produce (with --records and no --duration: no time limit)")
	f.Int64Var(&c.Records, "records", 0, "records to produce in all (0: no limit)")
	f.DurationVar(&c.Linger, "linger", c.Linger, "how long a partition's batch waits for more records (linger.ms)")
	f.Int32Var(&c.BatchMaxBytes, "batch-max-bytes", c.BatchMaxBytes, "largest batch, before compression (batch.size)")
	f.IntVar(&c.MaxInflight, "max-inflight", c.MaxInflight, "produce requests in flight per broker (max.in.flight.requests.per.connection); an idempotent producer allows only 5")
	f.IntVar(&c.BufferedRecords, "buffered-records", c.BufferedRecords, "records each producer may have buffered or in flight")
	f.DurationVar(&c.DeliveryTimeout, "delivery-timeout", c.DeliveryTimeout, "fail a record not acknowledged this long after it was produced (delivery.timeout.ms)")
}

func (fl *kafkaBenchFlags) addConsume(f *pflag.FlagSet) {
	c := &fl.cfg
	f.IntVar(&c.Consumers, "consumers", c.Consumers, "consumers, each a client of its own with a share of the partitions")
	f.Int32Var(&c.FetchMaxBytes, "fetch-max-bytes", c.FetchMaxBytes, "most bytes a fetch returns (fetch.max.bytes)")
	f.Int32Var(&c.FetchMaxPartitionBytes, "fetch-max-partition-bytes", c.FetchMaxPartitionBytes, "most bytes a fetch returns for one partition (max.partition.fetch.bytes)")
}

// run runs a workload and reports its result.
func (fl *kafkaBenchFlags) run(cmd *cobra.Command, workload func(context.Context, kafkabench.Config) (*kafkabench.Result, error)) error {
	ctx, stop := signalContext(cmd.Context())
	defer stop()
	f := cmd.Flags()
	if cmd.Name() != "consume" && f.Changed("records") && !f.Changed("duration") {
		fl.cfg.Duration = 0 // --records alone: no time limit
	}
	fl.cfg.Progress = cmd.ErrOrStderr()
	if fl.cpuProf != "" {
		stopProfile, err := startCPUProfile(fl.cpuProf)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	res, err := workload(ctx, fl.cfg)
	if res == nil {
		return err
	}
	if werr := writeResult(cmd.OutOrStdout(), fl.jsonOut, fl.jsonFile, res.WriteJSON, res.WriteText); werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	if res.Failed() {
		return fmt.Errorf("%s: records failed or missing (see the result)", res.Workload)
	}
	return nil
}

// startCPUProfile profiles this process into the file at path until the
// returned function is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
		}
	}, nil
}

func newBenchConnectionsCommand() *cobra.Command {
	cfg := kafkabench.DefaultConnectionsConfig()
	var (
		jsonOut  bool
		jsonFile string
	)
	cmd := &cobra.Command{
		Use:   "connections",
		Short: "Open many idle connections to a broker and measure its memory",
		Long: `Open --count TCP connections to a broker; each sends one ApiVersions request,
reads the answer and stays open, idle. With --pid (a broker on this
machine), the broker's VmRSS is read from /proc/PID/status before the first
connection and --settle after the last, and the difference is divided by
the connections. Then every connection sends a second ApiVersions, to check
the broker still serves them all. Each connection needs a file descriptor
here and one in the broker: 10,000 need a hard limit (ulimit -Hn) above
that on both sides; Go raises the soft limit to the hard one by itself.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			cfg.Progress = cmd.ErrOrStderr()
			res, err := kafkabench.RunConnections(ctx, cfg)
			if res == nil {
				return err
			}
			if werr := writeResult(cmd.OutOrStdout(), jsonOut, jsonFile, res.WriteJSON, res.WriteText); werr != nil {
				return werr
			}
			if err == nil && res.Failed > 0 {
				err = fmt.Errorf("connections: %d of %d failed", res.Failed, cfg.Count)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&cfg.Broker, "broker", "b", cfg.Broker, "broker address, host:port")
	f.IntVar(&cfg.Count, "count", cfg.Count, "connections to open")
	f.IntVar(&cfg.PID, "pid", 0, "the broker's process id, to read its memory (0: not measured)")
	f.DurationVar(&cfg.Settle, "settle", cfg.Settle, "wait this long after the last connection before reading the broker's memory")
	f.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "connections being opened at once")
	f.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound on each dial and request")
	f.Int16Var(&cfg.Version, "api-version", cfg.Version, "ApiVersions version to send")
	f.BoolVar(&jsonOut, "json", false, "print the result as JSON instead of text")
	f.StringVar(&jsonFile, "json-file", "", "also write the result as JSON to this file")
	return cmd
}

// signalContext is cancelled by the first SIGINT or SIGTERM, which ends
// the run early with a report; a second one kills the process.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // back to the default behaviour for the next signal
	}()
	return ctx, stop
}

// writeResult writes a result as text or JSON to out, and as JSON to
// jsonFile when one is given.
func writeResult(out io.Writer, jsonOut bool, jsonFile string, writeJSON, writeText func(io.Writer) error) error {
	if jsonFile != "" {
		f, err := os.Create(jsonFile)
		if err != nil {
			return err
		}
		if err := writeJSON(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if jsonOut {
		return writeJSON(out)
	}
	return writeText(out)
}
