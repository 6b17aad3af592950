// Command perminute counts the events of each key per minute of event
// time and writes each minute's count once, when the minute is over (and
// a grace period of 10 s for late events has passed): final results, no
// updates. Keys are the records' keys; the output key is the windowed key
// (flow.WindowedCodec: the key, then the window's start and end in Unix
// milliseconds).
//
//	go run ./examples/flow/perminute -b 127.0.0.1:9092 -input events -output per-minute
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

	"github.com/weir-io/weir/flow"
)

// Topology counts input's records per key and minute into output.
func Topology(input, output string) *flow.Topology {
	top := flow.NewTopology()
	events := flow.Source(top, input, flow.String(), flow.Bytes())
	minutes := flow.Tumbling(time.Minute).WithGrace(10 * time.Second)
	flow.WindowedBy(events.GroupByKey(), minutes).
		Count(flow.Named("per-minute"), flow.EmitFinal()).ToStream().To(output)
	return top
}

func main() {
	brokers := flag.String("b", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	input := flag.String("input", "events", "topic of events")
	output := flag.String("output", "per-minute", "topic of per-minute counts")
	flag.Parse()
	app, err := flow.New(Topology(*input, *output), flow.Config{ApplicationID: "perminute", Brokers: strings.Split(*brokers, ",")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "perminute:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "perminute:", err)
		os.Exit(1)
	}
}
