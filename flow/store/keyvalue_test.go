package store

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestKeyValueWrites(t *testing.T) {
	db := openMemory(t)
	var rec recorder
	kv, err := db.KeyValue("kv", rec.log)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		op         string // put, delete
		key, value string
		nilValue   bool
	}{
		{op: "put", key: "a", value: "1"},
		{op: "put", key: "b", value: "2"},
		{op: "put", key: "a", value: "3"},
		{op: "put", key: "e", value: ""}, // empty, not a deletion
		{op: "delete", key: "b"},
		{op: "delete", key: "never"},          // logged all the same
		{op: "put", key: "c", nilValue: true}, // Put nil deletes
	}
	for _, s := range steps {
		switch {
		case s.op == "delete":
			err = kv.Delete([]byte(s.key))
		case s.nilValue:
			err = kv.Put([]byte(s.key), nil)
		default:
			err = kv.Put([]byte(s.key), []byte(s.value))
		}
		if err != nil {
			t.Fatalf("%s %s: %v", s.op, s.key, err)
		}
	}
	checkChanges(t, rec.take(), []Change{
		{Key: []byte("a"), Value: []byte("1")},
		{Key: []byte("b"), Value: []byte("2")},
		{Key: []byte("a"), Value: []byte("3")},
		{Key: []byte("e"), Value: []byte{}},
		{Key: []byte("b")},
		{Key: []byte("never")},
		{Key: []byte("c")},
	})
	gets := []struct {
		key   string
		value string
		found bool
	}{
		{"a", "3", true},
		{"b", "", false},
		{"c", "", false},
		{"e", "", true},
		{"never", "", false},
		{"", "", false},
	}
	for _, g := range gets {
		v, found, err := kv.Get([]byte(g.key))
		if err != nil || found != g.found || string(v) != g.value {
			t.Errorf("Get(%q) = %q, %v, %v; want %q, %v", g.key, v, found, err, g.value, g.found)
		}
		if found && v == nil {
			t.Errorf("Get(%q) found a nil value", g.key)
		}
	}
	if n, err := kv.Count(); err != nil || n != 2 {
		t.Errorf("Count = %d, %v; want 2", n, err)
	}
}

func TestKeyValueRanges(t *testing.T) {
	db := openMemory(t)
	kv, err := db.KeyValue("kv", nil)
	if err != nil {
		t.Fatal(err)
	}
	// A neighbour store, whose keys must never show.
	other, err := db.KeyValue("other", nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"", "a", "a\x00", "ab", "b", "\xff", "\xff\xff"}
	for _, k := range keys {
		if err := kv.Put([]byte(k), []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
		if err := other.Put([]byte(k), []byte("other")); err != nil {
			t.Fatal(err)
		}
	}
	b := func(s string) []byte { return []byte(s) }
	tests := []struct {
		name     string
		from, to []byte
		want     []string
	}{
		{"all", nil, nil, keys},
		{"empty from is the start", b(""), nil, keys},
		{"from a", b("a"), nil, keys[1:]},
		{"to b", nil, b("b"), keys[:4]},
		{"a to b", b("a"), b("b"), []string{"a", "a\x00", "ab"}},
		{"between keys", b("a\x01"), b("az"), []string{"ab"}},
		{"from ff", b("\xff"), nil, []string{"\xff", "\xff\xff"}},
		{"to empty", nil, b(""), nil},
		{"from equals to", b("a"), b("a"), nil},
		{"from after to", b("b"), b("a"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, gotReverse []string
			if err := kv.Range(tt.from, tt.to, func(k, v []byte) bool {
				if string(v) != "v"+string(k) {
					t.Errorf("key %q has value %q", k, v)
				}
				got = append(got, string(k))
				return true
			}); err != nil {
				t.Fatal(err)
			}
			if err := kv.ReverseRange(tt.from, tt.to, func(k, _ []byte) bool {
				gotReverse = append(gotReverse, string(k))
				return true
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Range = %q, want %q", got, tt.want)
			}
			slices.Reverse(gotReverse)
			if !slices.Equal(gotReverse, tt.want) {
				t.Errorf("ReverseRange reversed = %q, want %q", gotReverse, tt.want)
			}
		})
	}
	t.Run("stop", func(t *testing.T) {
		var got []string
		kv.ReverseRange(nil, nil, func(k, _ []byte) bool {
			got = append(got, string(k))
			return len(got) < 2
		})
		if want := []string{"\xff\xff", "\xff"}; !slices.Equal(got, want) {
			t.Errorf("ReverseRange stopped after %q, want %q", got, want)
		}
	})
	prefixes := []struct {
		prefix string
		want   []string
	}{
		{"a", []string{"a", "a\x00", "ab"}},
		{"\xff", []string{"\xff", "\xff\xff"}},
		{"", keys},
		{"c", nil},
	}
	for _, p := range prefixes {
		var got []string
		if err := kv.PrefixScan([]byte(p.prefix), func(k, _ []byte) bool {
			got = append(got, string(k))
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, p.want) {
			t.Errorf("PrefixScan(%q) = %q, want %q", p.prefix, got, p.want)
		}
	}
}

func TestKeyValueRestore(t *testing.T) {
	db := openMemory(t)
	var rec recorder
	kv, err := db.KeyValue("kv", rec.log)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		k := []byte(fmt.Sprintf("k%02d", i%17))
		if i%5 == 4 {
			err = kv.Delete(k)
		} else {
			err = kv.Put(k, []byte(fmt.Sprint(i)))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	changes := rec.take()
	fresh, err := openMemory(t).KeyValue("kv", rec.log)
	if err != nil {
		t.Fatal(err)
	}
	restoreAll(t, fresh.Restore, changes)
	if len(rec.changes) != 0 {
		t.Fatalf("Restore reported %d changes", len(rec.changes))
	}
	if got, want := dumpKeyValue(t, fresh), dumpKeyValue(t, kv); !slices.Equal(got, want) {
		t.Errorf("restored %q, want %q", got, want)
	}
}

func dumpKeyValue(t *testing.T, kv *KeyValue) []string {
	t.Helper()
	var out []string
	if err := kv.Range(nil, nil, func(k, v []byte) bool {
		out = append(out, string(k)+"="+string(v))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestKeyValueValuesAreCopies(t *testing.T) {
	db := openMemory(t)
	kv, _ := db.KeyValue("kv", nil)
	value := []byte("value")
	kv.Put([]byte("k"), value)
	value[0] = 'X'
	got, _, _ := kv.Get([]byte("k"))
	got[1] = 'Y'
	again, _, _ := kv.Get([]byte("k"))
	if !bytes.Equal(again, []byte("value")) {
		t.Errorf("stored value changed to %q", again)
	}
}

// TestKeyValuePutAll writes the same entries with PutAll into one store
// and with a Put or Delete each into another: contents and logs must be
// alike.
func TestKeyValuePutAll(t *testing.T) {
	var all, each recorder
	sAll, err := openMemory(t).KeyValue("kv", all.log)
	if err != nil {
		t.Fatal(err)
	}
	sEach, err := openMemory(t).KeyValue("kv", each.log)
	if err != nil {
		t.Fatal(err)
	}
	batches := [][]KV{
		{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte{}}},
		{{Key: []byte("a"), Value: []byte("2")}, {Key: []byte("b")}, {Key: []byte("never")}, {Key: []byte("c"), Value: []byte("3")}},
		{},
	}
	for _, b := range batches {
		if err := sAll.PutAll(b); err != nil {
			t.Fatal(err)
		}
		for _, e := range b {
			if err := sEach.Put(e.Key, e.Value); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkChanges(t, all.take(), each.take())
	contents := func(s *KeyValue) string {
		var out []string
		s.Range(nil, nil, func(k, v []byte) bool {
			out = append(out, string(k)+"="+string(v))
			return true
		})
		return strings.Join(out, " ")
	}
	if got, want := contents(sAll), contents(sEach); got != want || got != "a=2 c=3" {
		t.Fatalf("after PutAll: %q; after Put: %q; want \"a=2 c=3\"", got, want)
	}
}
