package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/examples/nexmark"
	model "github.com/weir-io/weir/flow/nexmark"
)

// generatorFlags are the flags that say which events to generate.
type generatorFlags struct {
	events, outOfOrder, eventRate int64
	span                          time.Duration
	seed                          uint64
}

func (g *generatorFlags) register(fs *flag.FlagSet) {
	fs.Int64Var(&g.events, "events", 1_000_000, "events to generate (0: without end)")
	fs.DurationVar(&g.span, "span", 30*time.Second, "event time the events span (with -events; -event-rate overrides it)")
	fs.Int64Var(&g.eventRate, "event-rate", 0, "events per second of event time (0: -events over -span)")
	fs.Int64Var(&g.outOfOrder, "out-of-order", 1, "scramble the events in groups of this many (1: in order)")
	fs.Uint64Var(&g.seed, "seed", 0, "generator seed")
}

// config is the generator's configuration the flags give.
func (g *generatorFlags) config() (model.GeneratorConfig, error) {
	c := model.DefaultGeneratorConfig()
	if g.events > 0 {
		c = nexmark.BenchmarkConfig(g.events, g.span)
	}
	if g.eventRate > 0 {
		c.InterEventDelay = model.DelayForRate(g.eventRate)
	}
	c.OutOfOrderGroupSize, c.Seed = g.outOfOrder, g.seed
	return c, c.Validate()
}

func generate(args []string) error {
	fs := flag.NewFlagSet("generate", flag.ExitOnError)
	brokers := fs.String("b", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	topic := fs.String("topic", "events", "topic to write the events to (created if missing)")
	partitions := fs.Int("partitions", 1, "partitions of the topic, if it is created")
	rate := fs.Float64("rate", 0, "events per second of wall-clock time (0: as fast as possible)")
	var gen generatorFlags
	gen.register(fs)
	fs.Parse(args)
	config, err := gen.config()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client, err := producer(strings.Split(*brokers, ","))
	if err != nil {
		return err
	}
	defer client.Close()
	n, err := ensureTopic(ctx, kadm.NewClient(client), *topic, int32(*partitions))
	if err != nil {
		return err
	}
	g, err := model.NewGenerator(config)
	if err != nil {
		return err
	}
	start := time.Now()
	written, err := nexmark.WriteEvents(ctx, client, *topic, g, n, *rate)
	elapsed := time.Since(start)
	fmt.Printf("%d events to %s (%d partitions) in %v: %.0f events/s\n", written, *topic, n, elapsed.Round(time.Millisecond),
		float64(written)/elapsed.Seconds())
	return err
}

// producer returns a client that writes to the partition each record
// names, in uncompressed batches: the default of Kafka's producer and of
// flow's (franz-go's would be snappy), so that the queries' figures do
// not include decompressing their input.
func producer(brokers []string) (*kgo.Client, error) {
	return kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(100_000))
}

// ensureTopic creates topic with partitions partitions and no time
// retention unless it exists, and returns its partition count.
func ensureTopic(ctx context.Context, admin *kadm.Client, topic string, partitions int32) (int32, error) {
	details, err := admin.ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("list topic %s: %w", topic, err)
	}
	if d, ok := details[topic]; ok && d.Err == nil {
		return int32(len(d.Partitions)), nil
	}
	// Records carry their event times, which may be long past: no time
	// retention.
	keep := "-1"
	resp, err := admin.CreateTopic(ctx, partitions, 1, map[string]*string{"retention.ms": &keep}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return 0, fmt.Errorf("create topic %s: %w", topic, err)
	}
	return partitions, nil
}
