package flow

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// silence counts each key's records and, when a key has had none for
// 10 s of event time, forwards its count; after 30 s of wall clock
// without records it forwards "idle". It uses a key-value store and both
// kinds of timer.
type silence struct {
	counts, lastSeen KeyValueStore[string, int64]
}

func (p *silence) Process(ctx *ProcessorContext[string, string, string], r Record[string, string]) error {
	st := p.counts.In(ctx)
	n, _, err := st.Get(r.Key)
	if err != nil {
		return err
	}
	if err := st.Put(r.Key, n+1); err != nil {
		return err
	}
	// One event-time timer per key: the previous one is moved.
	if n > 0 {
		last, _, err := p.lastSeen.In(ctx).Get(r.Key)
		if err != nil {
			return err
		}
		if err := ctx.DeleteTimer(EventTime, r.Key, time.UnixMilli(last).Add(10*time.Second)); err != nil {
			return err
		}
	}
	if err := p.lastSeen.In(ctx).Put(r.Key, r.Time.UnixMilli()); err != nil {
		return err
	}
	if err := ctx.SetTimer(EventTime, r.Key, r.Time.Add(10*time.Second)); err != nil {
		return err
	}
	return ctx.SetTimer(ProcessingTime, "", ctx.Now().Add(30*time.Second))
}

func (p *silence) OnTimer(ctx *ProcessorContext[string, string, string], tm Timer[string]) error {
	if tm.Domain == ProcessingTime {
		return ctx.Forward(Record[string, string]{Key: "", Value: "idle"})
	}
	st := p.counts.In(ctx)
	n, _, err := st.Get(tm.Key)
	if err != nil {
		return err
	}
	if err := st.Delete(tm.Key); err != nil {
		return err
	}
	return ctx.Forward(Record[string, string]{Key: tm.Key, Value: fmt.Sprintf("%d after %v", n, ctx.Watermark().Sub(at(0)))})
}

func silenceTopology(inMemory bool) *Topology {
	top := NewTopology()
	var opts []Option
	if inMemory {
		opts = append(opts, InMemory())
	}
	counts := NewKeyValueStore(top, "counts", String(), Int64(), opts...)
	lastSeen := NewKeyValueStore(top, "last-seen", String(), Int64())
	in := Source(top, "in", String(), String())
	Process(in, func() Processor[string, string, string, string] { return &silence{counts: counts, lastSeen: lastSeen} },
		Named("silence"), WithStores(counts, lastSeen), WithKeyCodec(String()), WithValueCodec(String())).To("out")
	return top
}

func TestProcessorTimers(t *testing.T) {
	for _, inMemory := range []bool{false, true} {
		t.Run(fmt.Sprintf("in-memory=%v", inMemory), func(t *testing.T) {
			top := silenceTopology(inMemory)
			d := newDriver(t, top, TestConfig{})
			in := Input(d, "in", String(), String())
			out := Output(d, "out", String(), String())
			pipeAt(t, in, "a", 0, "b", 1, "a", 5, "b", 3 /* out of order */, "a", 14)
			// Watermark 14: b's timer, moved to 3+10 s, fired; a's,
			// moved to 5+10 s and then 14+10 s, not yet.
			got := readKVs(t, out)
			want := []KeyValue[string, string]{{"b", "2 after 14s"}}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("after 14 s: got %v, want %v", got, want)
			}
			pipeAt(t, in, "c", 30)
			// a: seen at 14, timer 24, fires at watermark 30.
			want = []KeyValue[string, string]{{"a", "3 after 30s"}}
			if got := readKVs(t, out); !reflect.DeepEqual(got, want) {
				t.Fatalf("after 30 s: got %v, want %v", got, want)
			}
			// Processing time: nothing before 30 s of wall clock since
			// the last record, then one "idle".
			if err := d.AdvanceWallClock(29 * time.Second); err != nil {
				t.Fatal(err)
			}
			if got := readKVs(t, out); len(got) != 0 {
				t.Fatalf("after 29 s of wall clock: %v", got)
			}
			if err := d.AdvanceWallClock(time.Second); err != nil {
				t.Fatal(err)
			}
			want = []KeyValue[string, string]{{"", "idle"}}
			if got := readKVs(t, out); !reflect.DeepEqual(got, want) {
				t.Fatalf("after 30 s of wall clock: got %v, want %v", got, want)
			}
			// The timers' store is logged: setting and deleting appear
			// in its changelog.
			if n := len(d.Records("test-silence-timers-changelog")); n < 10 {
				t.Fatalf("the timer store's changelog has %d records", n)
			}
		})
	}
}

// A timer set at or before the watermark fires without waiting for the
// watermark to move; timers fire in time order, and a timer may set
// another, which fires in the same pass when due.
func TestProcessorTimerOrder(t *testing.T) {
	top := NewTopology()
	in := Source(top, "in", String(), String())
	Process(in, func() Processor[string, string, string, string] { return &chain{} },
		WithKeyCodec(String()), WithValueCodec(String())).To("out")
	d := newDriver(t, top, TestConfig{})
	pipeAt(t, Input(d, "in", String(), String()), "x", 100)
	got := readKVs(t, Output(d, "out", String(), String()))
	var fired []string
	for _, kv := range got {
		fired = append(fired, kv.Key+"="+kv.Value)
	}
	want := "k1=90 k2=95 k3=99 again=100"
	if strings.Join(fired, " ") != want {
		t.Fatalf("fired %v, want %s", fired, want)
	}
}

// chain sets three timers in the past, out of order; the first to fire
// sets one more at the watermark.
type chain struct{}

func (chain) Process(ctx *ProcessorContext[string, string, string], r Record[string, string]) error {
	for k, s := range map[string]int{"k3": 99, "k1": 90, "k2": 95} {
		if err := ctx.SetTimer(EventTime, k, at(s)); err != nil {
			return err
		}
	}
	return nil
}

func (chain) OnTimer(ctx *ProcessorContext[string, string, string], tm Timer[string]) error {
	if tm.Key == "k1" {
		if err := ctx.SetTimer(EventTime, "again", ctx.Watermark()); err != nil {
			return err
		}
	}
	return ctx.Forward(Record[string, string]{Key: tm.Key, Value: fmt.Sprint(tm.Time.Unix() - at(0).Unix())})
}

func TestProcessorStoreNotAttached(t *testing.T) {
	top := NewTopology()
	st := NewKeyValueStore(top, "st", String(), Int64())
	in := Source(top, "in", String(), String())
	Process(in, func() Processor[string, string, string, string] { return useStore{st} },
		WithKeyCodec(String()), WithValueCodec(String())).To("out")
	if _, err := NewTestDriver(top, TestConfig{}); err == nil || !strings.Contains(err.Error(), "used by no operator") {
		t.Fatalf("a store no operator uses: %v", err)
	}

	// The second processor uses the store of the first without it
	// being attached.
	top = NewTopology()
	st = NewKeyValueStore(top, "st", String(), Int64())
	in = Source(top, "in", String(), String())
	first := Process(in, func() Processor[string, string, string, string] { return passOn{} },
		WithStores(st), WithKeyCodec(String()), WithValueCodec(String()))
	Process(first, func() Processor[string, string, string, string] { return useStore{st} },
		WithKeyCodec(String()), WithValueCodec(String())).To("out")
	d := newDriver(t, top, TestConfig{})
	err := Input(d, "in", String(), String()).Pipe("k", "v", at(0))
	if err == nil || !strings.Contains(err.Error(), "not attached") {
		t.Fatalf("a store not attached: %v", err)
	}
}

type useStore struct{ st KeyValueStore[string, int64] }

func (p useStore) Process(ctx *ProcessorContext[string, string, string], r Record[string, string]) error {
	return p.st.In(ctx).Put(r.Key, 1)
}

func (useStore) OnTimer(*ProcessorContext[string, string, string], Timer[string]) error { return nil }

type passOn struct{}

func (passOn) Process(ctx *ProcessorContext[string, string, string], r Record[string, string]) error {
	return ctx.Forward(r)
}

func (passOn) OnTimer(*ProcessorContext[string, string, string], Timer[string]) error { return nil }
