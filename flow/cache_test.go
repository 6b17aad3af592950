package flow

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/weir-io/weir/flow/store"
)

// TestWindowCache runs random writes, reads, removals by time and flushes
// on a cached window store and on an uncached one, which must answer
// alike and end up holding the same entries, and checks that a flush
// leaves the cache empty.
func TestWindowCache(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			cached, plain := testWindowStore(t, true), testWindowStore(t, false)
			keys := [][]byte{[]byte("a"), []byte("b"), []byte("cc"), []byte("d"), []byte("zzz")}
			last := int64(-1) // removed up to
			for i := range 2000 {
				key := keys[rng.IntN(len(keys))]
				at := last + 1 + rng.Int64N(20)
				switch op := rng.IntN(10); {
				case op < 5:
					var value []byte
					if op > 0 {
						value = fmt.Appendf(nil, "v%d", i)
					}
					for _, s := range []*taskStore{cached, plain} {
						if err := s.putWindow(key, at, value); err != nil {
							t.Fatal(err)
						}
					}
				case op < 7:
					v1, f1, err1 := cached.getWindow(key, at)
					v2, f2, err2 := plain.getWindow(key, at)
					if err1 != nil || err2 != nil || f1 != f2 || string(v1) != string(v2) {
						t.Fatalf("op %d: get %s@%d: cached %q %v %v, store %q %v %v", i, key, at, v1, f1, err1, v2, f2, err2)
					}
				case op < 9:
					upTo := last + rng.Int64N(8)
					r1, err1 := cached.removeUpTo(upTo)
					r2, err2 := plain.removeUpTo(upTo)
					if err1 != nil || err2 != nil {
						t.Fatal(err1, err2)
					}
					if !slices.EqualFunc(r1, r2, equalTimed) {
						t.Fatalf("op %d: removeUpTo(%d): cached %v, store %v", i, upTo, r1, r2)
					}
					last = max(last, upTo)
				default:
					if err := cached.flush(); err != nil {
						t.Fatal(err)
					}
					if !cached.cache.empty() {
						t.Fatal("the cache holds entries after a flush")
					}
				}
			}
			if err := cached.flush(); err != nil {
				t.Fatal(err)
			}
			if c, p := allWindows(t, cached), allWindows(t, plain); !slices.EqualFunc(c, p, equalTimed) {
				t.Fatalf("after the last flush, the cached store holds %v, the other %v", c, p)
			}
		})
	}
}

func equalTimed(a, b timedEntry) bool {
	return compareTimed(a, b) == 0 && string(a.value) == string(b.value)
}

// testWindowStore returns a task store over a window store in memory.
func testWindowStore(t *testing.T, cached bool) *taskStore {
	t.Helper()
	db, err := store.Open("", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w, err := db.Windowed("w", operatorRetention, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &taskStore{def: &storeDef{name: "w", kind: windowStore, retention: time.Hour}, windows: w, floor: math.MinInt64}
	if cached {
		s.cache = newWindowCache()
	}
	return s
}

// allWindows returns every entry of a task store's window store.
func allWindows(t *testing.T, s *taskStore) []timedEntry {
	t.Helper()
	var out []timedEntry
	err := s.windows.FetchAll(math.MinInt64, math.MaxInt64, func(key []byte, at int64, v []byte) bool {
		out = append(out, timedEntry{key: slices.Clone(key), start: at, t: at, value: slices.Clone(v)})
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKeyValueCache runs random writes, reads and flushes on a cached
// key-value store and on an uncached one, which must answer alike and end
// up holding the same entries; the cached store's changelog must leave
// each key with its last value.
func TestKeyValueCache(t *testing.T) {
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 2))
		stores := [2]*taskStore{}
		logged := map[string][]byte{} // the cached store's changelog, compacted
		for i, cached := range []bool{true, false} {
			db, err := store.Open("", store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var log store.Logger
			if cached {
				log = func(c store.Change) { logged[string(c.Key)] = slices.Clone(c.Value) }
			}
			kv, err := db.KeyValue("kv", log)
			if err != nil {
				t.Fatal(err)
			}
			stores[i] = &taskStore{def: &storeDef{name: "kv", kind: keyValueStore}, kv: kv, floor: math.MinInt64}
			if cached {
				stores[i].kvCache = map[string][]byte{}
			}
		}
		contents := func(s *taskStore) map[string]string {
			out := map[string]string{}
			s.kv.Range(nil, nil, func(k, v []byte) bool {
				out[string(k)] = string(v)
				return true
			})
			return out
		}
		for i := range 1000 {
			key := []byte{byte('a' + rng.IntN(8))}
			switch op := rng.IntN(10); {
			case op < 5:
				var value []byte
				if op > 0 {
					value = fmt.Appendf(nil, "v%d", i)
				}
				for _, s := range stores {
					if err := s.put(key, value); err != nil {
						t.Fatal(err)
					}
				}
			case op < 9:
				v1, f1, err1 := stores[0].get(key)
				v2, f2, err2 := stores[1].get(key)
				if err1 != nil || err2 != nil || f1 != f2 || string(v1) != string(v2) {
					t.Fatalf("seed %d, op %d: get %s: cached %q %v %v, store %q %v %v", seed, i, key, v1, f1, err1, v2, f2, err2)
				}
			default:
				if err := stores[0].flush(); err != nil {
					t.Fatal(err)
				}
				if len(stores[0].kvCache) > 0 {
					t.Fatal("the cache holds entries after a flush")
				}
			}
		}
		if err := stores[0].flush(); err != nil {
			t.Fatal(err)
		}
		want := contents(stores[1])
		if got := contents(stores[0]); !maps.Equal(got, want) {
			t.Fatalf("seed %d: after the last flush, the cached store holds %v, the other %v", seed, got, want)
		}
		for k, v := range logged {
			if w, ok := want[k]; ok != (v != nil) || string(v) != w {
				t.Fatalf("seed %d: the changelog leaves %s at %q, the store at %q", seed, k, v, w)
			}
		}
	}
}
