package store

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// windowEntry is one window as a test sees it.
type windowEntry struct {
	key   string
	start int64
	value string
}

func fetchWindows(t *testing.T, w *Windowed, key string, from, to int64) []windowEntry {
	t.Helper()
	var out []windowEntry
	if err := w.Fetch([]byte(key), from, to, func(start int64, v []byte) bool {
		out = append(out, windowEntry{key, start, string(v)})
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func fetchAllWindows(t *testing.T, w *Windowed, from, to int64) []windowEntry {
	t.Helper()
	var out []windowEntry
	if err := w.FetchAll(from, to, func(key []byte, start int64, v []byte) bool {
		out = append(out, windowEntry{string(key), start, string(v)})
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWindowedFetch(t *testing.T) {
	db := openMemory(t)
	const day = 24 * 3600 * 1000
	w, err := db.Windowed("w", 4*day*time.Millisecond, nil) // segments of 2 days
	if err != nil {
		t.Fatal(err)
	}
	// "a" + be8(0) is what the changelog key of ("a", 0) reads as: a key
	// of its own here, as are "ab" and "" beside "a".
	collision := "a" + be8(0)
	keys := []string{"", "a", "ab", collision} // as FetchAll orders them
	// Segments -1, 0 and 1; the latest start leaves all live.
	starts := []int64{-1, 0, 59_999, 60_000, day, 2*day + 1, 4*day - 1}
	// "a" and the collision have no windows in segment 0: a fetch goes
	// from segment -1 to 1 past the windows of a greater key ("a") or past
	// none (the collision, the greatest key).
	has := func(key string, start int64) bool {
		return (key != "a" && key != collision) || floorDiv(start, 2*day) != 0
	}
	for _, k := range keys {
		for _, s := range starts {
			if !has(k, s) {
				continue
			}
			if err := w.Put([]byte(k), s, []byte(fmt.Sprintf("%s@%d", k, s))); err != nil {
				t.Fatal(err)
			}
		}
	}
	windows := func(key string, starts ...int64) []windowEntry {
		var out []windowEntry
		for _, s := range starts {
			if has(key, s) {
				out = append(out, windowEntry{key, s, fmt.Sprintf("%s@%d", key, s)})
			}
		}
		return out
	}
	tests := []struct {
		name     string
		key      string
		from, to int64
		want     []windowEntry
	}{
		{"all of a", "a", math.MinInt64, math.MaxInt64, windows("a", starts...)},
		{"all of ab", "ab", math.MinInt64, math.MaxInt64, windows("ab", starts...)},
		{"all of the collision", collision, math.MinInt64, math.MaxInt64, windows(collision, starts...)},
		{"all of the empty key", "", math.MinInt64, math.MaxInt64, windows("", starts...)},
		{"inclusive bounds", "ab", 0, 60_000, windows("ab", 0, 59_999, 60_000)},
		{"between windows", "ab", 1, 59_998, nil},
		{"one", "ab", 59_999, 59_999, windows("ab", 59_999)},
		{"across segments", "ab", 60_001, 4*day - 1, windows("ab", day, 2*day+1, 4*day-1)},
		{"a over its empty segment", "a", 0, 3 * day, windows("a", 2*day+1)},
		{"negative", "ab", math.MinInt64, -1, windows("ab", -1)},
		{"from after to", "ab", 10, 0, nil},
		{"absent key", "b", math.MinInt64, math.MaxInt64, nil},
		{"extension of a key", "a\x00", math.MinInt64, math.MaxInt64, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fetchWindows(t, w, tt.key, tt.from, tt.to); !slices.Equal(got, tt.want) {
				t.Errorf("Fetch(%q, %d, %d) =\n%v\nwant\n%v", tt.key, tt.from, tt.to, got, tt.want)
			}
		})
	}
	t.Run("fetch all", func(t *testing.T) {
		// By start, then key by length, then bytes.
		var want []windowEntry
		for _, s := range []int64{59_999, 60_000, day, 2*day + 1} {
			for _, k := range keys {
				want = append(want, windows(k, s)...)
			}
		}
		if got := fetchAllWindows(t, w, 59_999, 2*day+1); !slices.Equal(got, want) {
			t.Errorf("FetchAll =\n%v\nwant\n%v", got, want)
		}
		want = nil
		for _, s := range starts {
			for _, k := range keys {
				want = append(want, windows(k, s)...)
			}
		}
		if got := fetchAllWindows(t, w, math.MinInt64, math.MaxInt64); !slices.Equal(got, want) {
			t.Errorf("FetchAll of everything =\n%v\nwant\n%v", got, want)
		}
	})
	t.Run("stop", func(t *testing.T) {
		n := 0
		w.Fetch([]byte("a"), math.MinInt64, math.MaxInt64, func(int64, []byte) bool { n++; return n < 3 })
		m := 0
		w.FetchAll(math.MinInt64, math.MaxInt64, func([]byte, int64, []byte) bool { m++; return m < 3 })
		if n != 3 || m != 3 {
			t.Errorf("fn called %d and %d times after returning false at 3", n, m)
		}
	})
	t.Run("get and delete", func(t *testing.T) {
		if v, found, err := w.Get([]byte("ab"), day); err != nil || !found || string(v) != "ab@86400000" {
			t.Errorf("Get = %q, %v, %v", v, found, err)
		}
		if _, found, _ := w.Get([]byte("ab"), day+2); found {
			t.Error("Get found a window never written")
		}
		if err := w.Put([]byte("ab"), day, nil); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := w.Get([]byte("ab"), day); found {
			t.Error("Get found a deleted window")
		}
		if got, want := fetchWindows(t, w, "ab", 0, math.MaxInt64), windows("ab", 0, 59_999, 60_000, 2*day+1, 4*day-1); !slices.Equal(got, want) {
			t.Errorf("after delete, Fetch = %v, want %v", got, want)
		}
		for _, e := range fetchAllWindows(t, w, day, day) {
			if e.key == "ab" {
				t.Error("FetchAll returned a deleted window")
			}
		}
	})
}

func TestWindowedLog(t *testing.T) {
	db := openMemory(t)
	var rec recorder
	w, err := db.Windowed("w", time.Hour, rec.log)
	if err != nil {
		t.Fatal(err)
	}
	w.Put([]byte("a"), 1000, []byte("x"))
	w.Put([]byte("ab"), -5, []byte("y"))
	w.Put([]byte("a"), 1000, []byte("z"))
	w.Put([]byte("a"), 1000, nil)
	w.Put([]byte("never"), 7, nil)
	w.Expire(10 * 3600 * 1000)            // not logged
	w.Put([]byte("a"), 0, []byte("late")) // expired: dropped, not logged
	checkChanges(t, rec.take(), []Change{
		{Key: []byte("a" + be8(1000)), Value: []byte("x"), Timestamp: 1000},
		{Key: []byte("ab" + be8(-5)), Value: []byte("y"), Timestamp: -5},
		{Key: []byte("a" + be8(1000)), Value: []byte("z"), Timestamp: 1000},
		{Key: []byte("a" + be8(1000)), Timestamp: 1000},
		{Key: []byte("never" + be8(7)), Timestamp: 7},
	})
}

// TestWindowedPutAll writes the same windows with PutAll into one store
// and with a Put each into another: the stores, their stream times and
// their logs must be alike, an expired window dropped from both.
func TestWindowedPutAll(t *testing.T) {
	var all, each recorder
	wAll, err := openMemory(t).Windowed("w", time.Hour, all.log)
	if err != nil {
		t.Fatal(err)
	}
	wEach, err := openMemory(t).Windowed("w", time.Hour, each.log)
	if err != nil {
		t.Fatal(err)
	}
	const hour = 3600 * 1000
	batches := [][]Window{
		{{Key: []byte("a"), Start: 1000, Value: []byte("x")}, {Key: []byte("ab"), Start: -5, Value: []byte("y")}},
		{{Key: []byte("a"), Start: 1000, Value: []byte("z")}, {Key: []byte("a"), Start: 1000}, {Key: []byte("never"), Start: 7}},
		{{Key: []byte("b"), Start: 10 * hour, Value: []byte("v")}, {Key: []byte("a"), Start: 0, Value: []byte("late")}},
		{},
	}
	for _, b := range batches {
		if err := wAll.PutAll(b); err != nil {
			t.Fatal(err)
		}
		for _, win := range b {
			if err := wEach.Put(win.Key, win.Start, win.Value); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkChanges(t, all.take(), each.take())
	contents := func(w *Windowed) string {
		var out []string
		w.FetchAll(math.MinInt64, math.MaxInt64, func(key []byte, start int64, v []byte) bool {
			out = append(out, fmt.Sprintf("%s@%d=%s", key, start, v))
			return true
		})
		return fmt.Sprint(out, w.StreamTime())
	}
	if got, want := contents(wAll), contents(wEach); got != want {
		t.Fatalf("after PutAll: %s; after Put: %s", got, want)
	}
	if got := contents(wAll); got != "[b@36000000=v] 36000000" {
		t.Fatalf("after PutAll: %s", got)
	}
}

func TestWindowedExpire(t *testing.T) {
	db := openMemory(t)
	var rec recorder
	w, err := db.Windowed("w", 10*time.Minute, rec.log) // segments of 5 minutes
	if err != nil {
		t.Fatal(err)
	}
	const minute = 60_000
	for _, s := range []int64{0, 2 * minute, 7 * minute} {
		if err := w.Put([]byte("k"), s, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	live := func() []int64 {
		var starts []int64
		w.FetchAll(math.MinInt64, math.MaxInt64, func(_ []byte, s int64, _ []byte) bool {
			starts = append(starts, s)
			return true
		})
		return starts
	}
	steps := []struct {
		streamTime int64
		live       []int64
		onDisk     int // windows in Pebble, in whole live segments
	}{
		{9 * minute, []int64{0, 2 * minute, 7 * minute}, 3},
		{10 * minute, []int64{0, 2 * minute, 7 * minute}, 3},
		{10*minute + 1, []int64{2 * minute, 7 * minute}, 3}, // 0 expired, its segment live
		{15*minute + 1, []int64{7 * minute}, 1},             // segment [0, 5 min) removed
		{17*minute + 1, nil, 1},                             // segment [5, 10 min) live
		{20*minute + 1, nil, 0},
	}
	windowsArea := area(dataPrefix(0), areaWindows)
	timesArea := area(dataPrefix(0), areaTimes)
	for _, s := range steps {
		if err := w.Expire(s.streamTime); err != nil {
			t.Fatal(err)
		}
		if got := live(); !slices.Equal(got, s.live) {
			t.Errorf("at %d: live windows %v, want %v", s.streamTime, got, s.live)
		}
		for _, start := range []int64{0, 2 * minute, 7 * minute} {
			_, found, _ := w.Get([]byte("k"), start)
			fetched := len(fetchWindows(t, w, "k", start, start)) == 1
			if want := slices.Contains(s.live, start); found != want || fetched != want {
				t.Errorf("at %d: window %d: Get found %v, Fetch found %v, want %v", s.streamTime, start, found, fetched, want)
			}
		}
		if n, m := rawCount(t, db, windowsArea), rawCount(t, db, timesArea); n != s.onDisk || m != s.onDisk {
			t.Errorf("at %d: %d windows and %d index entries on disk, want %d", s.streamTime, n, m, s.onDisk)
		}
	}
	if err := w.Expire(0); err != nil || w.StreamTime() != 20*minute+1 {
		t.Errorf("Expire to an earlier time moved the stream time to %d (%v)", w.StreamTime(), err)
	}
	if err := w.Put([]byte("k"), 7*minute, []byte("late")); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := w.Get([]byte("k"), 7*minute); found {
		t.Error("a write to an expired window was applied")
	}
	if len(rec.changes) != 3 {
		t.Errorf("%d changes logged, want the 3 puts", len(rec.changes))
	}
}

func TestWindowedRestore(t *testing.T) {
	db := openMemory(t)
	var rec recorder
	w, err := db.Windowed("w", 10*time.Minute, rec.log)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var streamTime int64
	for i := range 300 {
		streamTime += r.Int64N(10_000)
		key := []byte{byte('a' + r.IntN(4))}
		start := streamTime - r.Int64N(15*60_000)
		var value []byte
		if r.IntN(4) > 0 {
			value = []byte(fmt.Sprint(i))
		}
		if err := w.Put(key, start, value); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			if err := w.Expire(streamTime); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.Expire(streamTime)
	fresh, err := openMemory(t).Windowed("w", 10*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	restoreAll(t, fresh.Restore, rec.take())
	if fresh.StreamTime() > w.StreamTime() {
		t.Errorf("restored stream time %d is after the store's %d", fresh.StreamTime(), w.StreamTime())
	}
	fresh.Expire(streamTime)
	want := fetchAllWindows(t, w, math.MinInt64, math.MaxInt64)
	if len(want) == 0 {
		t.Fatal("nothing live to compare")
	}
	if got := fetchAllWindows(t, fresh, math.MinInt64, math.MaxInt64); !slices.Equal(got, want) {
		t.Errorf("restored\n%v\nwant\n%v", got, want)
	}
}

func TestWindowedRestoreMalformed(t *testing.T) {
	w, err := openMemory(t).Windowed("w", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", "1234567"} {
		if err := w.Restore(Change{Key: []byte(key), Value: []byte("v")}); !errorsIs(err, ErrMalformedChange) {
			t.Errorf("Restore of key %q: %v, want ErrMalformedChange", key, err)
		}
	}
	// Exactly a start: the empty user key.
	if err := w.Restore(Change{Key: []byte(be8(5)), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if v, found, _ := w.Get(nil, 5); !found || string(v) != "v" {
		t.Errorf("Get of the empty key = %q, %v", v, found)
	}
}
