// Command enrichment enriches orders with their customers: orders (key:
// customer id, value: an Order in JSON) are joined with the table of
// customers read from a compacted changelog topic (key: customer id,
// value: a Customer in JSON), as the table is when each order comes;
// orders of unknown customers are kept, without a name.
//
//	go run ./examples/flow/enrichment -b 127.0.0.1:9092
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

// Order is an order of a customer.
type Order struct {
	ID     string `json:"id"`
	Amount int64  `json:"amount"`
}

// Customer is a customer as the customers topic holds them.
type Customer struct {
	Name    string `json:"name"`
	Country string `json:"country"`
}

// Enriched is an order with its customer's details.
type Enriched struct {
	Order
	Customer string `json:"customer,omitempty"`
	Country  string `json:"country,omitempty"`
}

// Topology joins orders with customers into enriched.
func Topology(orders, customers, enriched string) *flow.Topology {
	top := flow.NewTopology()
	o := flow.Source(top, orders, flow.String(), flow.JSON[Order]())
	c := flow.TableOf(top, customers, flow.String(), flow.JSON[Customer](), flow.Named("customers"))
	flow.LeftJoinTable(o, c, func(_ string, order Order, customer Customer, found bool) Enriched {
		e := Enriched{Order: order}
		if found {
			e.Customer, e.Country = customer.Name, customer.Country
		}
		return e
	}, flow.WithValueCodec(flow.JSON[Enriched]())).To(enriched)
	return top
}

func main() {
	brokers := flag.String("b", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	flag.Parse()
	app, err := flow.New(Topology("orders", "customers", "orders-enriched"),
		flow.Config{ApplicationID: "enrichment", Brokers: strings.Split(*brokers, ",")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "enrichment:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "enrichment:", err)
		os.Exit(1)
	}
}
