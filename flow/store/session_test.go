package store

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// sessionEntry is one session as a test sees it.
type sessionEntry struct {
	key        string
	start, end int64
	value      string
}

func findSessions(t *testing.T, s *Session, key string, earliestEnd, latestStart int64) []sessionEntry {
	t.Helper()
	var out []sessionEntry
	if err := s.FindSessions([]byte(key), earliestEnd, latestStart, func(start, end int64, v []byte) bool {
		out = append(out, sessionEntry{key, start, end, string(v)})
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func fetchAllSessions(t *testing.T, s *Session, fromEnd, toEnd int64) []sessionEntry {
	t.Helper()
	var out []sessionEntry
	if err := s.FetchAll(fromEnd, toEnd, func(key []byte, start, end int64, v []byte) bool {
		out = append(out, sessionEntry{string(key), start, end, string(v)})
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSessionFind(t *testing.T) {
	db := openMemory(t)
	var rec recorder
	s, err := db.Session("s", time.Hour, rec.log)
	if err != nil {
		t.Fatal(err)
	}
	// "k" + be8(10) + be8(0) is what the changelog key of ("k", 0, 10)
	// reads as; here it is a key of its own.
	collision := "k" + be8(10) + be8(0)
	sessions := []sessionEntry{
		{"k", 0, 10, "k1"},
		{"k", 20, 30, "k2"},
		{"k", 100, 100, "k3"},
		{"k", 200, 250, "k4"},
		{"ka", 5, 25, "ka1"},
		{collision, 0, 10, "c1"},
		{"", 0, 10, "e1"},
	}
	for _, e := range sessions {
		if err := s.Put([]byte(e.key), e.start, e.end, []byte(e.value)); err != nil {
			t.Fatal(err)
		}
	}
	k := sessions[:4]
	tests := []struct {
		name                     string
		key                      string
		earliestEnd, latestStart int64
		want                     []sessionEntry
	}{
		{"all", "k", math.MinInt64, math.MaxInt64, k},
		{"one overlapping", "k", 15, 25, k[1:2]},
		{"touching both", "k", 10, 20, k[:2]},
		{"in a gap", "k", 31, 99, nil},
		{"a point session", "k", 100, 100, k[2:3]},
		{"at the start", "k", 0, 0, k[:1]},
		{"after all", "k", 251, math.MaxInt64, nil},
		{"latest start before all", "k", math.MinInt64, -1, nil},
		{"ka", "ka", 0, 100, sessions[4:5]},
		{"the collision key", collision, math.MinInt64, math.MaxInt64, sessions[5:6]},
		{"the empty key", "", math.MinInt64, math.MaxInt64, sessions[6:7]},
		{"absent", "kb", math.MinInt64, math.MaxInt64, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := findSessions(t, s, tt.key, tt.earliestEnd, tt.latestStart); !slices.Equal(got, tt.want) {
				t.Errorf("FindSessions(%q, %d, %d) = %v, want %v", tt.key, tt.earliestEnd, tt.latestStart, got, tt.want)
			}
		})
	}
	t.Run("fetch all", func(t *testing.T) {
		// By end, then key (length, bytes), then start.
		want := []sessionEntry{sessions[6], sessions[0], sessions[5], sessions[4], sessions[1], sessions[2]}
		if got := fetchAllSessions(t, s, 10, 100); !slices.Equal(got, want) {
			t.Errorf("FetchAll(10, 100) = %v, want %v", got, want)
		}
	})
	t.Run("get, remove, log", func(t *testing.T) {
		rec.take()
		if v, found, err := s.Get([]byte("k"), 20, 30); err != nil || !found || string(v) != "k2" {
			t.Errorf("Get = %q, %v, %v", v, found, err)
		}
		if _, found, _ := s.Get([]byte("k"), 20, 31); found {
			t.Error("Get found a session never written")
		}
		if err := s.Remove([]byte("k"), 20, 30); err != nil {
			t.Fatal(err)
		}
		if err := s.Put([]byte("k"), 0, 10, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Put([]byte("k"), 300, 310, []byte("k5")); err != nil {
			t.Fatal(err)
		}
		if got, want := findSessions(t, s, "k", math.MinInt64, math.MaxInt64), []sessionEntry{k[2], k[3], {"k", 300, 310, "k5"}}; !slices.Equal(got, want) {
			t.Errorf("after removals, FindSessions = %v, want %v", got, want)
		}
		checkChanges(t, rec.take(), []Change{
			{Key: []byte("k" + be8(30) + be8(20)), Timestamp: 30},
			{Key: []byte("k" + be8(10) + be8(0)), Timestamp: 10},
			{Key: []byte("k" + be8(310) + be8(300)), Value: []byte("k5"), Timestamp: 310},
		})
	})
	if err := s.Put([]byte("k"), 11, 10, []byte("x")); err == nil {
		t.Error("Put of a session ending before it starts succeeded")
	}
}

func TestSessionExpire(t *testing.T) {
	db := openMemory(t)
	s, err := db.Session("s", 10*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	const minute = 60_000
	// A long session ending late outlives a short one starting later.
	s.Put([]byte("a"), 0, 8*minute, []byte("long"))
	s.Put([]byte("b"), 3*minute, 3*minute, []byte("short"))
	if err := s.Expire(13*minute + 1); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.Get([]byte("b"), 3*minute, 3*minute); found {
		t.Error("a session ended before the retention is found")
	}
	if got := findSessions(t, s, "a", math.MinInt64, math.MaxInt64); len(got) != 1 {
		t.Errorf("the long session: %v", got)
	}
	if got := fetchAllSessions(t, s, math.MinInt64, math.MaxInt64); len(got) != 1 || got[0].key != "a" {
		t.Errorf("FetchAll = %v, want the long session", got)
	}
	s.Put([]byte("c"), 0, 2*minute, []byte("late")) // expired: dropped
	if _, found, _ := s.Get([]byte("c"), 0, 2*minute); found {
		t.Error("a write to an expired session was applied")
	}
	s.Expire(30 * minute)
	if n := rawCount(t, db, dataPrefix(0)); n != 0 {
		t.Errorf("%d keys on disk after all expired", n)
	}
}

func TestSessionRestore(t *testing.T) {
	db := openMemory(t)
	var rec recorder
	s, err := db.Session("s", 10*time.Minute, rec.log)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	var streamTime int64
	for i := range 300 {
		streamTime += r.Int64N(10_000)
		key := []byte{byte('a' + r.IntN(4))}
		end := streamTime - r.Int64N(12*60_000)
		start := end - r.Int64N(60_000)
		var value []byte
		if r.IntN(4) > 0 {
			value = []byte(fmt.Sprint(i))
		}
		if err := s.Put(key, start, end, value); err != nil {
			t.Fatal(err)
		}
	}
	s.Expire(streamTime)
	fresh, err := openMemory(t).Session("s", 10*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	restoreAll(t, fresh.Restore, rec.take())
	fresh.Expire(streamTime)
	want := fetchAllSessions(t, s, math.MinInt64, math.MaxInt64)
	if len(want) == 0 {
		t.Fatal("nothing live to compare")
	}
	if got := fetchAllSessions(t, fresh, math.MinInt64, math.MaxInt64); !slices.Equal(got, want) {
		t.Errorf("restored\n%v\nwant\n%v", got, want)
	}
}

func TestSessionRestoreMalformed(t *testing.T) {
	s, err := openMemory(t).Session("s", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", "123456789012345", be8(5) + be8(6)} { // the last starts after its end
		if err := s.Restore(Change{Key: []byte(key), Value: []byte("v")}); !errorsIs(err, ErrMalformedChange) {
			t.Errorf("Restore of key %q: %v, want ErrMalformedChange", key, err)
		}
	}
	if err := s.Restore(Change{Key: []byte("k" + be8(6) + be8(5)), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if v, found, _ := s.Get([]byte("k"), 5, 6); !found || string(v) != "v" {
		t.Errorf("restored session: %q, %v", v, found)
	}
}
