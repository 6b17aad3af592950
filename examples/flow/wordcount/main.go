// Command wordcount is the word count of the flow library: lines of text
// from one topic, split into words, counted per word, every new count
// written to another topic (the word as key, the count as an 8-byte
// big-endian integer), exactly once.
//
//	weir topic create lines --partitions 4
//	weir topic create counts --partitions 4
//	go run ./examples/flow/wordcount -b 127.0.0.1:9092 &
//	echo "the quick brown fox jumps over the lazy dog" | weir produce lines
//	weir consume counts --from-beginning
//
// Start it twice: the two instances share the partitions.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/weir-io/weir/flow"
)

// Topology counts the words of the lines of input, written to output.
func Topology(input, output string) *flow.Topology {
	top := flow.NewTopology()
	lines := flow.Source(top, input, flow.Bytes(), flow.String())
	words := flow.FlatMapValues(lines, func(_ []byte, line string) []string {
		return strings.Fields(strings.ToLower(line))
	}, flow.WithValueCodec(flow.String()))
	byWord := flow.SelectKey(words, func(_ []byte, w string) string { return w }, flow.WithKeyCodec(flow.String()))
	byWord.GroupByKey(flow.Named("words")).Count(flow.Named("word-counts")).ToStream().To(output)
	return top
}

func main() {
	brokers := flag.String("b", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	input := flag.String("input", "lines", "topic of lines of text")
	output := flag.String("output", "counts", "topic of counts")
	appID := flag.String("application-id", "wordcount", "application id (consumer group, internal topics' prefix)")
	flag.Parse()
	app, err := flow.New(Topology(*input, *output), flow.Config{ApplicationID: *appID, Brokers: strings.Split(*brokers, ",")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "wordcount:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "wordcount:", err)
		os.Exit(1)
	}
}
