package main

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/weir-io/weir/flow"
)

func TestSessions(t *testing.T) {
	d, err := flow.NewTestDriver(Topology("clicks", "out"), flow.TestConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := flow.Input(d, "clicks", flow.String(), flow.String())
	base := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		user string
		at   time.Duration
	}{{"ann", 0}, {"ann", 10 * time.Minute}, {"bob", 15 * time.Minute}, {"ann", 35 * time.Minute},
		{"ann", 2 * time.Hour}, {"bob", 3 * time.Hour}} {
		if err := in.Pipe(c.user, "/", base.Add(c.at)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := flow.Output(d, "out", flow.WindowedCodec(flow.String()), flow.Int64()).Read()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range out {
		got = append(got, fmt.Sprintf("%s %s-%s %d", r.Key.Key, r.Key.Window.Start.UTC().Format("15:04"), r.Key.Window.End.UTC().Format("15:04"), r.Value))
	}
	want := []string{"bob 09:15-09:15 1", "ann 09:00-09:35 3", "ann 11:00-11:00 1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
