package kafkabench

import (
	"testing"
	"time"
)

func TestStamp(t *testing.T) {
	fill := filler(64, 1)
	v := newValue(fill, 64, 3)
	for _, since := range []time.Duration{1, time.Millisecond, 90 * time.Hour} {
		putStamp(v, since)
		if got, ok := readStamp(v); !ok || got != since {
			t.Errorf("stamp %v reads back as %v, %v", since, got, ok)
		}
	}
	short := newValue(fill, 7, 0)
	before := string(short)
	putStamp(short, time.Second)
	if string(short) != before {
		t.Error("a stamp was written into a value too short for it")
	}
	if _, ok := readStamp(short); ok {
		t.Error("a value too short for a stamp reads as stamped")
	}
	for _, c := range fill {
		if c < 'A' || c > 'Z' {
			t.Fatalf("filler byte %q is not an upper-case letter", c)
		}
	}
}

func TestPacerSchedule(t *testing.T) {
	// The schedule, not the clock: send n is due n/rate after the start.
	start := time.Unix(1000, 0)
	p := newPacer(start, 4)
	for n, want := range []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond} {
		if got := p.due().Sub(start); got != want {
			t.Errorf("send %d due at +%v: want +%v", n, got, want)
		}
		p.sent++
	}
	stop := make(chan struct{})
	close(stop)
	if newPacer(time.Now(), 0).wait(stop) {
		t.Error("an unpaced wait went on after stop")
	}
	if !newPacer(time.Now(), 0).wait(make(chan struct{})) {
		t.Error("an unpaced wait did not go on")
	}
}
