package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/weir-io/weir/flow"
)

// The topology, in the test driver.
func TestWordCount(t *testing.T) {
	d, err := flow.NewTestDriver(Topology("lines", "counts"), flow.TestConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := flow.Input(d, "lines", flow.Bytes(), flow.String())
	for _, line := range []string{"to be or", "not to be"} {
		if err := in.Pipe(nil, line, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	got, err := flow.Output(d, "counts", flow.String(), flow.Int64()).ReadKeyValues()
	if err != nil {
		t.Fatal(err)
	}
	type kv = flow.KeyValue[string, int64]
	want := []kv{{Key: "to", Value: 1}, {Key: "be", Value: 1}, {Key: "or", Value: 1}, {Key: "not", Value: 1}, {Key: "to", Value: 2}, {Key: "be", Value: 2}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
