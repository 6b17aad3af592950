package store

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

func TestCheckpoint(t *testing.T) {
	for _, tt := range []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"memory", func(*testing.T) string { return "" }},
		{"directory", func(t *testing.T) string { return t.TempDir() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(tt.dir(t), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			checkCheckpoint(t, db, map[string]int64{})
			offsets := map[string]int64{"counts": 42, "windows": 0, "": -1, "é": math.MaxInt64}
			if err := db.SetCheckpoint(offsets); err != nil {
				t.Fatal(err)
			}
			checkCheckpoint(t, db, offsets)
			if err := db.SetCheckpoint(map[string]int64{"counts": 43}); err != nil {
				t.Fatal(err)
			}
			checkCheckpoint(t, db, map[string]int64{"counts": 43})
			if err := db.ClearCheckpoint(); err != nil {
				t.Fatal(err)
			}
			checkCheckpoint(t, db, map[string]int64{})
			if err := db.SetCheckpoint(nil); err != nil {
				t.Fatal(err)
			}
			checkCheckpoint(t, db, map[string]int64{})
		})
	}
}

func checkCheckpoint(t *testing.T, db *DB, want map[string]int64) {
	t.Helper()
	got, err := db.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || len(got) != len(want) {
		t.Fatalf("checkpoint %v, want %v", got, want)
	}
	for name, offset := range want {
		if o, ok := got[name]; !ok || o != offset {
			t.Fatalf("checkpoint %v, want %v", got, want)
		}
	}
}

// TestReopen closes a DB and opens its directory again: the stores, their
// stream times as of the checkpoint and the checkpoint are there.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	kv, _ := db.KeyValue("kv", nil)
	w, _ := db.Windowed("w", 10*time.Minute, nil)
	v, _ := db.Versioned("v", time.Minute, nil)
	kv.Put([]byte("k"), []byte("1"))
	w.Put([]byte("k"), 5*60_000, []byte("2"))
	w.Put([]byte("k"), 6*60_000, []byte("3"))
	v.Put([]byte("k"), 100, []byte("4"))
	w.Expire(15*60_000 + 1) // window 5 min expires, its segment live
	if err := db.SetCheckpoint(map[string]int64{"kv": 1, "w": 2}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkCheckpoint(t, db, map[string]int64{"kv": 1, "w": 2})
	// Opened in another order: stores are found by name.
	v, err = db.Versioned("v", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err = db.Windowed("w", 10*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	kv, err = db.KeyValue("kv", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := kv.Get([]byte("k")); string(got) != "1" {
		t.Errorf("key-value: %q", got)
	}
	if w.StreamTime() != 15*60_000+1 {
		t.Errorf("windowed stream time %d, want as checkpointed", w.StreamTime())
	}
	if _, found, _ := w.Get([]byte("k"), 5*60_000); found {
		t.Error("a window expired before the checkpoint is back")
	}
	if got, _, _ := w.Get([]byte("k"), 6*60_000); string(got) != "3" {
		t.Errorf("windowed: %q", got)
	}
	if got, from, _, _ := v.Get([]byte("k")); string(got) != "4" || from != 100 {
		t.Errorf("versioned: %q from %d", got, from)
	}
	// A new store gets an id of its own.
	kv2, err := db.KeyValue("kv2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, found, _ := kv2.Get([]byte("k")); found {
		t.Error("a new store sees another's key")
	}
}

// TestCheckpointDurable crashes a DB (losing every unsynced write) after a
// checkpoint: the checkpoint and all written before it survive.
func TestCheckpointDurable(t *testing.T) {
	fs := vfs.NewCrashableMem()
	db, err := Open("task", Options{fs: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kv, _ := db.KeyValue("kv", nil)
	kv.Put([]byte("before"), []byte("1"))
	if err := db.SetCheckpoint(map[string]int64{"kv": 7}); err != nil {
		t.Fatal(err)
	}
	kv.Put([]byte("after"), []byte("2"))

	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	after, err := Open("task", Options{fs: crashed})
	if err != nil {
		t.Fatal(err)
	}
	checkCheckpoint(t, after, map[string]int64{"kv": 7})
	kv2, _ := after.KeyValue("kv", nil)
	if got, _, _ := kv2.Get([]byte("before")); string(got) != "1" {
		t.Errorf("a write before the checkpoint is lost: %q", got)
	}
	after.Close()

	// A cleared checkpoint stays cleared.
	if err := db.ClearCheckpoint(); err != nil {
		t.Fatal(err)
	}
	after, err = Open("task", Options{fs: fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})})
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	checkCheckpoint(t, after, map[string]int64{})
}

func TestStoreNames(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.KeyValue("s", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.KeyValue("s", nil); !errors.Is(err, ErrStoreOpen) {
		t.Errorf("second open: %v, want ErrStoreOpen", err)
	}
	if _, err := db.Windowed("s", time.Hour, nil); !errors.Is(err, ErrStoreOpen) {
		t.Errorf("second open as windowed: %v, want ErrStoreOpen", err)
	}
	if _, err := db.KeyValue("", nil); err == nil {
		t.Error("a store without a name opened")
	}
	if _, err := db.Windowed("w", 0, nil); err == nil {
		t.Error("a windowed store without retention opened")
	}
	if _, err := db.Versioned("v", -time.Second, nil); err == nil {
		t.Error("a versioned store with negative retention opened")
	}
	db.Close()
	db, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Session("s", time.Hour, nil); !errors.Is(err, ErrKindMismatch) {
		t.Errorf("open as another kind: %v, want ErrKindMismatch", err)
	}
}

func TestClosed(t *testing.T) {
	db, err := Open("", Options{})
	if err != nil {
		t.Fatal(err)
	}
	kv, _ := db.KeyValue("kv", nil)
	w, _ := db.Windowed("w", time.Hour, nil)
	s, _ := db.Session("s", time.Hour, nil)
	v, _ := db.Versioned("v", time.Hour, nil)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	k := []byte("k")
	ops := map[string]error{
		"KeyValue.Get":     second(kv.Get(k)),
		"KeyValue.Put":     kv.Put(k, k),
		"KeyValue.Range":   kv.Range(nil, nil, func(_, _ []byte) bool { return true }),
		"Windowed.Put":     w.Put(k, 1, k),
		"Windowed.Fetch":   w.Fetch(k, 0, 1, func(int64, []byte) bool { return true }),
		"Session.FetchAll": s.FetchAll(0, 1, func([]byte, int64, int64, []byte) bool { return true }),
		"Versioned.Put":    v.Put(k, 1, k),
		"SetCheckpoint":    db.SetCheckpoint(nil),
		"Checkpoint":       second(db.Checkpoint()),
		"open a store":     second(db.KeyValue("other", nil)),
	}
	for name, err := range ops {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if _, _, _, err := v.GetAsOf(k, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("GetAsOf after Close: %v", err)
	}
}

// second returns the error of a call returning two or three results.
func second[T any](_ T, err ...any) error {
	if e, ok := err[len(err)-1].(error); ok {
		return e
	}
	return nil
}

// TestConcurrentReads reads windows on other goroutines while the task
// writes them and then closes the DB: readers see each write whole, in
// time order, and get ErrClosed once it is closed, never a closed Pebble.
func TestConcurrentReads(t *testing.T) {
	db, err := Open("", Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := db.Windowed("w", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	const writes = 2000
	var readers sync.WaitGroup
	progress := make(chan int, 2)
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				n, last := 0, int64(-1)
				err := w.FetchAll(math.MinInt64, math.MaxInt64, func(key []byte, start int64, v []byte) bool {
					if start <= last || string(v) != string(key) {
						t.Errorf("window %q at %d after %d with value %q", key, start, last, v)
					}
					n, last = n+1, start
					return true
				})
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				select {
				case progress <- n:
				default:
				}
			}
		}()
	}
	for i := range writes {
		key := []byte{byte(i)}
		if err := w.Put(key, int64(i), key); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until a reader has seen every write (or the readers have
	// failed), then close under them.
	stopped := make(chan struct{})
	go func() { readers.Wait(); close(stopped) }()
	for seen := false; !seen; {
		select {
		case n := <-progress:
			seen = n == writes
		case <-stopped:
			seen = true
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	<-stopped
}

func TestDestroy(t *testing.T) {
	t.Run("state", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "task")
		db, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		kv, _ := db.KeyValue("kv", nil)
		kv.Put([]byte("k"), []byte("v"))
		if err := Destroy(dir); err == nil {
			t.Error("Destroy of an open DB succeeded")
		}
		db.Close()
		if err := Destroy(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("directory still there: %v", err)
		}
		db, err = Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		kv, _ = db.KeyValue("kv", nil)
		if _, found, _ := kv.Get([]byte("k")); found {
			t.Error("state survived Destroy")
		}
	})
	t.Run("absent", func(t *testing.T) {
		if err := Destroy(filepath.Join(t.TempDir(), "none")); err != nil {
			t.Error(err)
		}
		if err := Destroy(""); err != nil {
			t.Error(err)
		}
	})
	t.Run("empty", func(t *testing.T) {
		dir := t.TempDir()
		if err := Destroy(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("directory still there: %v", err)
		}
	})
	t.Run("not state", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Destroy(dir); !errors.Is(err, ErrNotState) {
			t.Errorf("Destroy: %v, want ErrNotState", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
			t.Errorf("the file is gone: %v", err)
		}
	})
}

func TestFormatVersion(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	p, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Set(keyFormat, []byte{formatVersion + 1}, pebble.Sync)
	p.Close()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrFormat) {
		t.Errorf("Open of a later format: %v, want ErrFormat", err)
	}
}

func TestSharedCache(t *testing.T) {
	cache := NewCache(1 << 20)
	defer cache.Release()
	for range 2 {
		db, err := Open(t.TempDir(), Options{Cache: cache, MemTableSize: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		kv, _ := db.KeyValue("kv", nil)
		kv.Put([]byte("k"), []byte("v"))
		if got, _, _ := kv.Get([]byte("k")); string(got) != "v" {
			t.Errorf("Get = %q", got)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDecodeCheckpoint(t *testing.T) {
	good := encodeCheckpoint(map[string]int64{"a": 1, "bc": -2})
	bad := [][]byte{
		nil,
		{2},
		{1},
		{1, 1},
		{1, 1, 1, 'a'},
		{1, 1, 1, 'a', 0, 0, 0, 0, 0, 0, 0},
		append(append([]byte{}, good...), 0),
		{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	}
	if _, err := decodeCheckpoint(good); err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		if _, err := decodeCheckpoint(b); err == nil {
			t.Errorf("decodeCheckpoint(%x) succeeded", b)
		}
	}
}

// TestClearCheckpointOnWrite: with the option, the first write after a
// checkpoint removes it, a restore does not; without, writes leave it.
func TestClearCheckpointOnWrite(t *testing.T) {
	for _, clear := range []bool{true, false} {
		db, err := Open("", Options{ClearCheckpointOnWrite: clear})
		if err != nil {
			t.Fatal(err)
		}
		kv, _ := db.KeyValue("kv", nil)
		w, _ := db.Windowed("w", time.Hour, nil)
		if db.Checkpointed() {
			t.Fatal("a new DB is checkpointed")
		}
		writes := []struct {
			name  string
			write func() error
			clear bool
		}{
			{"restore", func() error { return kv.Restore(Change{Key: []byte("k"), Value: []byte("1")}) }, false},
			{"windowed restore", func() error { return w.Restore(Change{Key: windowedChangelogKey([]byte("k"), 5), Value: []byte("1")}) }, false},
			{"put", func() error { return kv.Put([]byte("k"), []byte("2")) }, clear},
			{"delete", func() error { return kv.Delete([]byte("k")) }, clear},
			{"windowed put", func() error { return w.Put([]byte("k"), 6, []byte("2")) }, clear},
			{"expire, not advancing", func() error { return w.Expire(0) }, false},
			{"expire", func() error { return w.Expire(10) }, clear},
		}
		for _, tt := range writes {
			if err := db.SetCheckpoint(map[string]int64{"kv": 1}); err != nil {
				t.Fatal(err)
			}
			if err := tt.write(); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			got, _ := db.Checkpoint()
			if db.Checkpointed() == tt.clear || (len(got) == 0) != tt.clear {
				t.Errorf("clear on write %v, after a %s: checkpointed %v, checkpoint %v", clear, tt.name, db.Checkpointed(), got)
			}
		}
		db.Close()
	}
}

// TestClearCheckpointOnWriteCrash crashes a DB at random (unsynced 4 KiB
// blocks of its files kept or lost at random) after a checkpoint and
// writes: whatever survives, a checkpoint is never found beside a write
// made after it.
func TestClearCheckpointOnWriteCrash(t *testing.T) {
	fs := vfs.NewCrashableMem()
	db, err := Open("task", Options{fs: fs, ClearCheckpointOnWrite: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kv, _ := db.KeyValue("kv", nil)
	value := make([]byte, 300)
	for i := range 50 {
		kv.Put([]byte(fmt.Sprintf("before-%03d", i)), value)
	}
	if err := db.SetCheckpoint(map[string]int64{"kv": 50}); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		kv.Put([]byte(fmt.Sprintf("after-%03d", i)), value)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	kept := map[bool]int{}
	for range 100 {
		crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 50, RNG: rng})
		after, err := Open("task", Options{fs: crashed})
		if err != nil {
			t.Fatalf("open after a crash: %v", err)
		}
		cp, _ := after.Checkpoint()
		kv2, _ := after.KeyValue("kv", nil)
		writes := 0
		kv2.PrefixScan([]byte("after-"), func(_, _ []byte) bool { writes++; return true })
		if len(cp) > 0 && writes > 0 {
			t.Fatalf("checkpoint %v found with %d writes made after it", cp, writes)
		}
		kept[len(cp) > 0]++
		after.Close()
	}
	t.Logf("crashes that kept the checkpoint: %d, that lost it: %d", kept[true], kept[false])
}
