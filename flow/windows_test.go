package flow

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// windowedResults reads a windowed table's output as "key@start-end=value"
// in seconds (tombstones as "key@start-end deleted").
func windowedResults(t *testing.T, d *TestDriver, topic string) []string {
	t.Helper()
	recs, err := Output(d, topic, WindowedCodec(String()), Int64()).Read()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		w := fmt.Sprintf("%s@%d-%d", r.Key.Key, r.Key.Window.Start.Unix()-at(0).Unix(), r.Key.Window.End.Unix()-at(0).Unix())
		if r.Deleted {
			out = append(out, w+" deleted")
		} else {
			out = append(out, fmt.Sprintf("%s=%d", w, r.Value))
		}
	}
	return out
}

// pipeAt pipes keys at times (seconds after at(0)).
func pipeAt(t *testing.T, in TestInput[string, string], records ...any) {
	t.Helper()
	for i := 0; i < len(records); i += 2 {
		if err := in.Pipe(records[i].(string), "x", at(records[i+1].(int))); err != nil {
			t.Fatal(err)
		}
	}
}

// at(0) is a multiple of 10 s, so that windows of 10 s start at it.
func TestAtAligned(t *testing.T) {
	if at(0).Unix()%10 != 0 {
		t.Fatal("at(0) is not aligned on 10 s")
	}
}

func TestTimeWindows(t *testing.T) {
	tests := []struct {
		name    string
		windows TimeWindows
		opts    []Option
		input   []any // key, second, ...
		want    []string
	}{
		{"tumbling, every update", Tumbling(10 * time.Second), nil,
			[]any{"a", 0, "a", 1, "b", 5, "a", 12},
			[]string{"a@0-10=1", "a@0-10=2", "b@0-10=1", "a@10-20=1"}},
		{"hopping", Hopping(10*time.Second, 5*time.Second), nil,
			[]any{"a", 7, "a", 12},
			[]string{"a@0-10=1", "a@5-15=1", "a@5-15=2", "a@10-20=1"}},
		{"a late record is dropped", Tumbling(10 * time.Second), nil,
			[]any{"a", 1, "a", 25, "a", 2},
			[]string{"a@0-10=1", "a@20-30=1"}},
		{"grace takes a late record", Tumbling(10 * time.Second).WithGrace(5 * time.Second), nil,
			[]any{"a", 1, "a", 14, "a", 2, "a", 15, "a", 3},
			[]string{"a@0-10=1", "a@10-20=1", "a@0-10=2", "a@10-20=2"}},
		{"final results", Tumbling(10 * time.Second).WithGrace(2 * time.Second), []Option{EmitFinal()},
			[]any{"a", 1, "b", 5, "a", 9, "a", 11, "a", 3, "a", 12, "b", 15, "a", 4, "a", 40},
			[]string{"a@0-10=3", "b@0-10=1", "a@10-20=2", "b@10-20=1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			top := NewTopology()
			g := Source(top, "in", String(), String()).GroupByKey()
			WindowedBy(g, tc.windows).Count(append(tc.opts, Named("counts"))...).ToStream().To("out")
			d := newDriver(t, top, TestConfig{})
			pipeAt(t, Input(d, "in", String(), String()), tc.input...)
			if got := windowedResults(t, d, "out"); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

// Late records are counted and can go to a side output.
func TestLateTo(t *testing.T) {
	top := NewTopology()
	g := Source(top, "in", String(), String()).GroupByKey()
	WindowedBy(g, Tumbling(10*time.Second)).Count(LateTo("late")).ToStream().To("out")
	d := newDriver(t, top, TestConfig{})
	pipeAt(t, Input(d, "in", String(), String()), "a", 1, "a", 30, "b", 2, "c", 31)
	late, err := Output(d, "late", String(), String()).ReadKeyValues()
	if err != nil {
		t.Fatal(err)
	}
	if len(late) != 1 || late[0].Key != "b" {
		t.Fatalf("late records %v, want b's", late)
	}
	if n := d.tasks[0].late; n != 1 {
		t.Fatalf("%d late records counted, want 1", n)
	}
}

func TestSessionWindows(t *testing.T) {
	tests := []struct {
		name  string
		grace time.Duration
		opts  []Option
		input []any
		want  []string
	}{
		// The grace keeps [0,3] open until 8 bridges it to [12,12]:
		// without it, the watermark at 12 closes [0,3] (3 + 5 <= 12),
		// as Kafka Streams closes sessions.
		{"merging, every update", 10 * time.Second, nil,
			[]any{"a", 0, "a", 3, "a", 12, "a", 8},
			[]string{"a@0-0=1", "a@0-0 deleted", "a@0-3=2", "a@12-12=1",
				"a@0-3 deleted", "a@12-12 deleted", "a@0-12=4"}},
		{"closed before a bridge", 0, nil,
			[]any{"a", 0, "a", 3, "a", 12, "a", 8},
			[]string{"a@0-0=1", "a@0-0 deleted", "a@0-3=2", "a@12-12=1", "a@12-12 deleted", "a@8-12=2"}},
		{"final results", 0, []Option{EmitFinal()},
			[]any{"a", 0, "a", 3, "b", 4, "a", 12, "a", 30},
			[]string{"a@0-3=2", "b@4-4=1", "a@12-12=1"}},
		{"late", 0, nil,
			[]any{"a", 30, "a", 1, "a", 26},
			[]string{"a@30-30=1", "a@30-30 deleted", "a@26-30=2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			top := NewTopology()
			g := Source(top, "in", String(), String()).GroupByKey()
			// Table.To writes the merged sessions' tombstones too.
			SessionWindowedBy(g, Sessions(5*time.Second).WithGrace(tc.grace)).Count(append(tc.opts, Named("sessions"))...).To("out")
			d := newDriver(t, top, TestConfig{})
			pipeAt(t, Input(d, "in", String(), String()), tc.input...)
			if got := windowedResults(t, d, "out"); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

// The watermark of a task is the lowest of its inputs' event times: a
// slow input holds windows open until it goes idle.
func TestWatermarkIdleInput(t *testing.T) {
	top := NewTopology()
	a := Source(top, "a", String(), String())
	b := Source(top, "b", String(), String())
	WindowedBy(a.Merge(b).GroupByKey(), Tumbling(10*time.Second)).Count(EmitFinal()).ToStream().To("out")
	d := newDriver(t, top, TestConfig{IdleTimeout: 5 * time.Second})
	pipeAt(t, Input(d, "b", String(), String()), "k", 1)
	pipeAt(t, Input(d, "a", String(), String()), "k", 2, "k", 30)
	if got := windowedResults(t, d, "out"); len(got) != 0 {
		t.Fatalf("a window closed while input b is at 1 s: %v", got)
	}
	if err := d.AdvanceWallClock(6 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got, want := windowedResults(t, d, "out"), []string{"k@0-10=2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after b went idle: got %v, want %v", got, want)
	}
}
