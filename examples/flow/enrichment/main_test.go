package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/weir-io/weir/flow"
)

func TestEnrichment(t *testing.T) {
	d, err := flow.NewTestDriver(Topology("orders", "customers", "out"), flow.TestConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	orders := flow.Input(d, "orders", flow.String(), flow.JSON[Order]())
	customers := flow.Input(d, "customers", flow.String(), flow.JSON[Customer]())
	now := time.Now()
	steps := []error{
		customers.Pipe("c1", Customer{Name: "Ann", Country: "NO"}, now),
		orders.Pipe("c1", Order{ID: "o1", Amount: 10}, now),
		orders.Pipe("c2", Order{ID: "o2", Amount: 20}, now),
		customers.Pipe("c1", Customer{Name: "Ann", Country: "SE"}, now),
		orders.Pipe("c1", Order{ID: "o3", Amount: 30}, now),
	}
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := flow.Output(d, "out", flow.String(), flow.JSON[Enriched]()).ReadKeyValues()
	if err != nil {
		t.Fatal(err)
	}
	want := []flow.KeyValue[string, Enriched]{
		{Key: "c1", Value: Enriched{Order: Order{ID: "o1", Amount: 10}, Customer: "Ann", Country: "NO"}},
		{Key: "c2", Value: Enriched{Order: Order{ID: "o2", Amount: 20}}},
		{Key: "c1", Value: Enriched{Order: Order{ID: "o3", Amount: 30}, Customer: "Ann", Country: "SE"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}
