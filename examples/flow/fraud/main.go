// Command fraud checks the velocity of card payments: a card that pays
// more than MaxPayments times within Window (event time) is flagged, and
// an alert is written; once a flagged card has been silent for Quiet, a
// timer fires on that silence and the card is cleared, with a second
// record. It shows the processor API: a store per card and an event-time
// timer, moved by every payment, that fires only when none comes.
//
//	go run ./examples/flow/fraud -b 127.0.0.1:9092 -input payments -output alerts
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

// The check's parameters.
const (
	MaxPayments = 3
	Window      = time.Minute
	Quiet       = 10 * time.Minute
)

// Payment is a payment's value (key: the card).
type Payment struct {
	Cents    int64  `json:"cents"`
	Merchant string `json:"merchant"`
}

// Alert is what the check writes (key: the card).
type Alert struct {
	Flagged  bool      `json:"flagged"` // false: cleared after Quiet of silence
	Payments int       `json:"payments"`
	Since    time.Time `json:"since"`
}

// card is what the check keeps per card: the times of its recent
// payments, whether it is flagged, and the time of its silence timer.
type card struct {
	Recent  []time.Time `json:"recent"`
	Flagged bool        `json:"flagged"`
	Timer   time.Time   `json:"timer"`
}

// velocity is the processor.
type velocity struct {
	cards flow.KeyValueStore[string, card]
}

func (p *velocity) Process(ctx *flow.ProcessorContext[string, string, Alert], r flow.Record[string, Payment]) error {
	cards := p.cards.In(ctx)
	c, _, err := cards.Get(r.Key)
	if err != nil {
		return err
	}
	// Keep the payments of the last Window (records may come out of
	// order: keep those within Window of this one's time).
	recent := c.Recent[:0]
	for _, t := range c.Recent {
		if r.Time.Sub(t) < Window {
			recent = append(recent, t)
		}
	}
	c.Recent = append(recent, r.Time)
	if !c.Flagged && len(c.Recent) > MaxPayments {
		c.Flagged = true
		err := ctx.Forward(flow.Record[string, Alert]{Key: r.Key, Value: Alert{Flagged: true, Payments: len(c.Recent), Since: c.Recent[0]}})
		if err != nil {
			return err
		}
	}
	if c.Flagged {
		// The silence timer moves to Quiet after the latest payment.
		if !c.Timer.IsZero() {
			if err := ctx.DeleteTimer(flow.EventTime, r.Key, c.Timer); err != nil {
				return err
			}
		}
		c.Timer = r.Time.Add(Quiet)
		if err := ctx.SetTimer(flow.EventTime, r.Key, c.Timer); err != nil {
			return err
		}
	}
	return cards.Put(r.Key, c)
}

// OnTimer fires after Quiet without payments of a flagged card.
func (p *velocity) OnTimer(ctx *flow.ProcessorContext[string, string, Alert], t flow.Timer[string]) error {
	cards := p.cards.In(ctx)
	c, found, err := cards.Get(t.Key)
	if err != nil || !found {
		return err
	}
	if err := cards.Delete(t.Key); err != nil {
		return err
	}
	return ctx.Forward(flow.Record[string, Alert]{Key: t.Key, Value: Alert{Flagged: false, Payments: len(c.Recent), Since: c.Timer.Add(-Quiet)}})
}

// Topology checks the payments of input (key: card, value: Payment as
// JSON) and writes alerts to output.
func Topology(input, output string) *flow.Topology {
	top := flow.NewTopology()
	cards := flow.NewKeyValueStore(top, "cards", flow.String(), flow.JSON[card]())
	payments := flow.Source(top, input, flow.String(), flow.JSON[Payment]())
	flow.Process(payments, func() flow.Processor[string, Payment, string, Alert] { return &velocity{cards: cards} },
		flow.Named("velocity"), flow.WithStores(cards), flow.WithKeyCodec(flow.String()), flow.WithValueCodec(flow.JSON[Alert]())).
		To(output)
	return top
}

func main() {
	brokers := flag.String("b", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	input := flag.String("input", "payments", "topic of payments (key: card, value: JSON)")
	output := flag.String("output", "alerts", "topic of alerts")
	flag.Parse()
	app, err := flow.New(Topology(*input, *output), flow.Config{ApplicationID: "fraud", Brokers: strings.Split(*brokers, ",")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fraud:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "fraud:", err)
		os.Exit(1)
	}
}
