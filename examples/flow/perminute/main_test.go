package main

import (
	"testing"
	"time"

	"github.com/weir-io/weir/flow"
)

// Each minute's count comes once, after the minute and its grace period.
func TestPerMinute(t *testing.T) {
	d, err := flow.NewTestDriver(Topology("events", "out"), flow.TestConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := flow.Input(d, "events", flow.String(), flow.Bytes())
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, e := range []struct {
		key string
		at  time.Duration
	}{{"a", 1 * time.Second}, {"a", 30 * time.Second}, {"b", 59 * time.Second}, {"a", 65 * time.Second},
		{"a", 45 * time.Second} /* late but within grace */, {"a", 71 * time.Second} /* closes minute 0 */} {
		if err := in.Pipe(e.key, nil, base.Add(e.at)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := flow.Output(d, "out", flow.WindowedCodec(flow.String()), flow.Int64()).Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Key.Key != "a" || out[0].Value != 3 || out[1].Key.Key != "b" || out[1].Value != 1 ||
		!out[0].Key.Window.Start.Equal(base) || !out[0].Key.Window.End.Equal(base.Add(time.Minute)) {
		t.Fatalf("final counts: %+v", out)
	}
}
