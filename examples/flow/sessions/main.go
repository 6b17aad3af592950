// Command sessions sessionizes a click stream: each user's clicks (key:
// the user) are grouped into sessions that end after 30 minutes without a
// click, and each session's number of clicks is written once, when the
// session is over.
//
//	go run ./examples/flow/sessions -b 127.0.0.1:9092 -input clicks -output sessions
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

// Topology counts the clicks of each user's sessions.
func Topology(input, output string) *flow.Topology {
	top := flow.NewTopology()
	clicks := flow.Source(top, input, flow.String(), flow.String()) // user -> page
	flow.SessionWindowedBy(clicks.GroupByKey(), flow.Sessions(30*time.Minute)).
		Count(flow.Named("click-sessions"), flow.EmitFinal()).ToStream().To(output)
	return top
}

func main() {
	brokers := flag.String("b", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	input := flag.String("input", "clicks", "topic of clicks (key: user)")
	output := flag.String("output", "sessions", "topic of sessions' click counts")
	flag.Parse()
	app, err := flow.New(Topology(*input, *output), flow.Config{ApplicationID: "sessions", Brokers: strings.Split(*brokers, ",")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sessions:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "sessions:", err)
		os.Exit(1)
	}
}
