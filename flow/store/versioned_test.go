package store

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// asOf is a GetAsOf and its answer.
type asOf struct {
	key       string
	ts        int64
	value     string
	validFrom int64
	found     bool
}

func checkAsOf(t *testing.T, s *Versioned, reads []asOf) {
	t.Helper()
	for _, r := range reads {
		v, validFrom, found, err := s.GetAsOf([]byte(r.key), r.ts)
		if err != nil || string(v) != r.value || validFrom != r.validFrom || found != r.found {
			t.Errorf("GetAsOf(%q, %d) = %q, %d, %v, %v; want %q, %d, %v",
				r.key, r.ts, v, validFrom, found, err, r.value, r.validFrom, r.found)
		}
	}
}

func TestVersionedGetAsOf(t *testing.T) {
	db := openMemory(t)
	var rec recorder
	s, err := db.Versioned("v", time.Hour, rec.log)
	if err != nil {
		t.Fatal(err)
	}
	// "k" + be8(10) is what the changelog key of ("k", 10) reads as.
	collision := "k" + be8(10)
	puts := []struct {
		key       string
		validFrom int64
		value     *string
	}{
		{"k", 10, ptr("A")},
		{"k", 30, ptr("C")},
		{"k", 20, ptr("B")}, // out of order
		{"k", 40, nil},      // a deletion
		{"k", 50, ptr("E")},
		{"k", 20, ptr("B2")}, // replaces B
		{"k", 60, ptr("")},   // empty, not a deletion
		{collision, 5, ptr("X")},
		{"k2", 45, nil}, // a deletion of a key never written
	}
	for _, p := range puts {
		var value []byte
		if p.value != nil {
			value = []byte(*p.value)
		}
		if err := s.Put([]byte(p.key), p.validFrom, value); err != nil {
			t.Fatal(err)
		}
	}
	checkAsOf(t, s, []asOf{
		{"k", 5, "", math.MinInt64, false},
		{"k", 10, "A", 10, true},
		{"k", 19, "A", 10, true},
		{"k", 20, "B2", 20, true},
		{"k", 29, "B2", 20, true},
		{"k", 30, "C", 30, true},
		{"k", 39, "C", 30, true},
		{"k", 40, "", 40, false},
		{"k", 49, "", 40, false},
		{"k", 50, "E", 50, true},
		{"k", 60, "", 60, true},
		{"k", math.MaxInt64, "", 60, true},
		{collision, 4, "", math.MinInt64, false},
		{collision, 5, "X", 5, true},
		{collision, 100, "X", 5, true},
		{"k2", 44, "", math.MinInt64, false},
		{"k2", 45, "", 45, false},
		{"absent", 100, "", math.MinInt64, false},
	})
	if v, validFrom, found, err := s.Get([]byte("k")); err != nil || !found || v == nil || len(v) != 0 || validFrom != 60 {
		t.Errorf("Get = %q, %d, %v, %v; want the empty value from 60", v, validFrom, found, err)
	}
	checkChanges(t, rec.take(), []Change{
		{Key: []byte("k" + be8(10)), Value: []byte("\x01A"), Timestamp: 10},
		{Key: []byte("k" + be8(30)), Value: []byte("\x01C"), Timestamp: 30},
		{Key: []byte("k" + be8(20)), Value: []byte("\x01B"), Timestamp: 20},
		{Key: []byte("k" + be8(40)), Value: []byte("\x00"), Timestamp: 40},
		{Key: []byte("k" + be8(50)), Value: []byte("\x01E"), Timestamp: 50},
		{Key: []byte("k" + be8(20)), Value: []byte("\x01B2"), Timestamp: 20},
		{Key: []byte("k" + be8(60)), Value: []byte("\x01"), Timestamp: 60},
		{Key: []byte(collision + be8(5)), Value: []byte("\x01X"), Timestamp: 5},
		{Key: []byte("k2" + be8(45)), Value: []byte("\x00"), Timestamp: 45},
	})
}

func ptr(s string) *string { return &s }

func TestVersionedExpire(t *testing.T) {
	db := openMemory(t)
	var rec recorder
	s, err := db.Versioned("v", time.Minute, rec.log) // removals every minute of cutoff
	if err != nil {
		t.Fatal(err)
	}
	versions := area(dataPrefix(0), areaVersions)
	expiry := area(dataPrefix(0), areaExpiry)
	steps := []struct {
		name   string
		do     func() error
		logged []Change
		reads  []asOf
	}{
		{
			name:   "j from 0",
			do:     func() error { return s.Put([]byte("j"), 0, []byte("X")) },
			logged: []Change{{Key: []byte("j" + be8(0)), Value: []byte("\x01X"), Timestamp: 0}},
		},
		{
			name:   "k from 0",
			do:     func() error { return s.Put([]byte("k"), 0, []byte("A")) },
			logged: []Change{{Key: []byte("k" + be8(0)), Value: []byte("\x01A"), Timestamp: 0}},
		},
		{
			name:   "d deleted from 50 s",
			do:     func() error { return s.Put([]byte("d"), 50_000, nil) },
			logged: []Change{{Key: []byte("d" + be8(50_000)), Value: []byte("\x00"), Timestamp: 50_000}},
		},
		{
			// Cutoff 40 s: nothing may be removed yet.
			name:   "k from 100 s",
			do:     func() error { return s.Put([]byte("k"), 100_000, []byte("B")) },
			logged: []Change{{Key: []byte("k" + be8(100_000)), Value: []byte("\x01B"), Timestamp: 100_000}},
			reads: []asOf{
				{"k", 39_999, "", math.MinInt64, false}, // before the history kept
				{"k", 40_000, "A", 0, true},
				{"d", 50_000, "", 50_000, false},
			},
		},
		{
			name: "too late for the history",
			do:   func() error { return s.Put([]byte("k"), 30_000, []byte("Z")) },
		},
		{
			// Cutoff 140 s: d's deletion and k's A are no longer needed.
			name: "k deleted from 200 s",
			do:   func() error { return s.Put([]byte("k"), 200_000, nil) },
			logged: []Change{
				{Key: []byte("k" + be8(200_000)), Value: []byte("\x00"), Timestamp: 200_000},
				{Key: []byte("d" + be8(50_000)), Timestamp: 50_000},
				{Key: []byte("k" + be8(0)), Timestamp: 0},
			},
			reads: []asOf{
				{"k", 139_999, "", math.MinInt64, false},
				{"k", 150_000, "B", 100_000, true},
				{"k", 200_000, "", 200_000, false},
				{"j", 140_000, "X", 0, true},
				{"d", 140_000, "", math.MinInt64, false},
			},
		},
		{
			// Cutoff 340 s: k's B and deletion go; j's latest value stays.
			name: "expire",
			do:   func() error { return s.Expire(400_000) },
			logged: []Change{
				{Key: []byte("k" + be8(100_000)), Timestamp: 100_000},
				{Key: []byte("k" + be8(200_000)), Timestamp: 200_000},
			},
			reads: []asOf{
				{"k", 340_000, "", math.MinInt64, false},
				{"j", 340_000, "X", 0, true},
			},
		},
	}
	var all []Change
	for _, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		got := rec.take()
		all = append(all, got...)
		checkChanges(t, got, step.logged)
		checkAsOf(t, s, step.reads)
	}
	if n, m := rawCount(t, db, versions), rawCount(t, db, expiry); n != 1 || m != 0 {
		t.Errorf("%d versions and %d expiry entries on disk, want j's and none", n, m)
	}

	// The changelog restores the same store.
	fresh := openMemory(t)
	restored, err := fresh.Versioned("v", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	restoreAll(t, restored.Restore, all)
	restored.Expire(400_000)
	checkAsOf(t, restored, steps[len(steps)-1].reads)
	if n, m := rawCount(t, fresh, versions), rawCount(t, fresh, expiry); n != 1 || m != 0 {
		t.Errorf("restored: %d versions and %d expiry entries on disk, want 1 and 0", n, m)
	}
}

func TestVersionedRestoreMalformed(t *testing.T) {
	s, err := openMemory(t).Versioned("v", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := []Change{
		{Key: []byte("1234567"), Value: []byte("\x01v")},
		{Key: []byte("k" + be8(1)), Value: []byte{}},
		{Key: []byte("k" + be8(1)), Value: []byte("\x00x")},
		{Key: []byte("k" + be8(1)), Value: []byte("\x02v")},
	}
	for _, c := range bad {
		if err := s.Restore(c); !errorsIs(err, ErrMalformedChange) {
			t.Errorf("Restore of %s: %v, want ErrMalformedChange", formatChanges([]Change{c}), err)
		}
	}
	// Removing a version that is not there is no error.
	if err := s.Restore(Change{Key: []byte("k" + be8(1))}); err != nil {
		t.Fatal(err)
	}
}

// TestVersionedModel runs random writes, out of order and expiring,
// against a model of what reads must answer, then checks that the expiry
// index removes all but the latest values, and that the changelog
// restores the same answers.
func TestVersionedModel(t *testing.T) {
	const retention = 60_000
	db := openMemory(t)
	var rec recorder
	s, err := db.Versioned("v", retention*time.Millisecond, rec.log)
	if err != nil {
		t.Fatal(err)
	}
	type modelVersion struct {
		value   string
		deleted bool
	}
	model := map[string]map[int64]modelVersion{} // key -> valid-from -> version
	streamTime := int64(math.MinInt64)
	r := rand.New(rand.NewPCG(5, 6))
	keys := []string{"a", "ab", "b"}
	now := int64(0)
	for range 600 {
		now += r.Int64N(3_000)
		key := keys[r.IntN(len(keys))]
		validFrom := now - r.Int64N(2*retention)
		value := modelVersion{value: fmt.Sprint(r.IntN(1000)), deleted: r.IntN(4) == 0}
		var raw []byte
		if !value.deleted {
			raw = []byte(value.value)
		}
		if r.IntN(20) == 0 {
			if err := s.Expire(now); err != nil {
				t.Fatal(err)
			}
			streamTime = max(streamTime, now)
			continue
		}
		if err := s.Put([]byte(key), validFrom, raw); err != nil {
			t.Fatal(err)
		}
		streamTime = max(streamTime, validFrom)
		if validFrom >= streamTime-retention {
			if model[key] == nil {
				model[key] = map[int64]modelVersion{}
			}
			model[key][validFrom] = value
		}
	}
	cutoff := streamTime - retention
	want := func(key string, ts int64) asOf {
		a := asOf{key: key, ts: ts, validFrom: math.MinInt64}
		best := int64(math.MinInt64)
		var found *modelVersion
		for vf, v := range model[key] {
			if vf <= ts && (found == nil || vf > best) {
				best, found = vf, &v
			}
		}
		switch {
		case found == nil:
		case found.deleted && best > cutoff:
			a.validFrom = best
		case !found.deleted:
			a.value, a.validFrom, a.found = found.value, best, true
		}
		return a
	}
	var reads []asOf
	for _, key := range keys {
		for ts := cutoff; ts <= streamTime+1_000; ts += 500 {
			reads = append(reads, want(key, ts))
		}
	}
	checkAsOf(t, s, reads)

	fresh := openMemory(t)
	restored, err := fresh.Versioned("v", retention*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	restoreAll(t, restored.Restore, rec.take())
	restored.Expire(streamTime)
	checkAsOf(t, restored, reads)

	// Far ahead, only the latest values remain on disk.
	latest := 0
	for _, key := range keys {
		if _, _, found, _ := s.Get([]byte(key)); found {
			latest++
		}
	}
	s.Expire(streamTime + 10*retention)
	restored.Expire(streamTime + 10*retention)
	for _, d := range []*DB{db, fresh} {
		if n, m := rawCount(t, d, area(dataPrefix(0), areaVersions)), rawCount(t, d, area(dataPrefix(0), areaExpiry)); n != latest || m != 0 {
			t.Errorf("%d versions and %d expiry entries on disk, want %d and 0", n, m, latest)
		}
	}
}

// TestVersionedRestoreRemoval removes a version between two others by a
// nil record: the older one then lasts until the newer, and is removed
// from disk when that is past the history kept.
func TestVersionedRestoreRemoval(t *testing.T) {
	db := openMemory(t)
	s, err := db.Versioned("v", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Change{
		{Key: []byte("k" + be8(10)), Value: []byte("\x01A")},
		{Key: []byte("k" + be8(20)), Value: []byte("\x01B")},
		{Key: []byte("k" + be8(30)), Value: []byte("\x01C")},
		{Key: []byte("k" + be8(20))},
	} {
		if err := s.Restore(c); err != nil {
			t.Fatal(err)
		}
	}
	checkAsOf(t, s, []asOf{
		{"k", 25, "A", 10, true},
		{"k", 30, "C", 30, true},
	})
	s.Expire(30 + 60_000)
	if n, m := rawCount(t, db, area(dataPrefix(0), areaVersions)), rawCount(t, db, area(dataPrefix(0), areaExpiry)); n != 1 || m != 0 {
		t.Errorf("%d versions and %d expiry entries on disk, want C's and none", n, m)
	}
}
