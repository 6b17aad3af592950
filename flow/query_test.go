package flow

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestQueries(t *testing.T) {
	top := NewTopology()
	clicks := Source(top, "clicks", String(), String())
	g := clicks.GroupByKey()
	g.Count(Named("totals"))
	WindowedBy(g, Tumbling(10*time.Second)).Count(Named("per-10s"))
	d := newDriver(t, top, TestConfig{})
	pipeAt(t, Input(d, "clicks", String(), String()), "a", 1, "b", 2, "a", 12, "a", 13, "c", 14)

	totals := QueryKeyValue(d, "totals", String(), Int64())
	if n, found, err := totals.Get("a"); err != nil || !found || n != 3 {
		t.Fatalf("Get(a) = %d, %v, %v", n, found, err)
	}
	if _, found, err := totals.Get("z"); err != nil || found {
		t.Fatalf("Get(z): %v, %v", found, err)
	}
	var got []string
	from, to := "b", "c\x00"
	if err := totals.Range(&from, &to, func(k string, n int64) bool { got = append(got, fmt.Sprint(k, n)); return true }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"b1", "c1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Range = %v, want %v", got, want)
	}

	windows := QueryWindows(d, "per-10s", String(), Int64())
	got = nil
	err := windows.Fetch("a", at(0), at(100), func(start time.Time, n int64) bool {
		got = append(got, fmt.Sprint(start.Unix()-at(0).Unix(), ":", n))
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	// The watermark is 14: the window [0, 10) is closed and gone.
	if want := []string{"10:2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Fetch = %v, want %v", got, want)
	}

	if _, _, err := QueryKeyValue(d, "nope", String(), Int64()).Get("a"); !errors.Is(err, ErrNoStore) {
		t.Fatalf("an unknown store: %v", err)
	}
	if err := QueryWindows(d, "totals", String(), Int64()).Fetch("a", at(0), at(1), nil); !errors.Is(err, ErrNoStore) {
		t.Fatalf("a key-value store as windows: %v", err)
	}
}
