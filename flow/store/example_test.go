package store_test

import (
	"fmt"
	"time"

	"github.com/weir-io/weir/flow/store"
)

// A task's store reports its changes; a new DB restored from them holds
// the same state.
func Example() {
	db, err := store.Open("", store.Options{}) // in memory
	if err != nil {
		panic(err)
	}
	defer db.Close()
	var changelog []store.Change
	counts, err := db.KeyValue("counts", func(c store.Change) { changelog = append(changelog, c) })
	if err != nil {
		panic(err)
	}
	counts.Put([]byte("apple"), []byte("3"))
	counts.Put([]byte("pear"), []byte("1"))
	counts.Delete([]byte("pear"))
	db.SetCheckpoint(map[string]int64{"counts": int64(len(changelog))})

	restored, err := store.Open("", store.Options{})
	if err != nil {
		panic(err)
	}
	defer restored.Close()
	again, err := restored.KeyValue("counts", nil)
	if err != nil {
		panic(err)
	}
	for _, c := range changelog {
		if err := again.Restore(c); err != nil {
			panic(err)
		}
	}
	again.Range(nil, nil, func(k, v []byte) bool {
		fmt.Printf("%s=%s\n", k, v)
		return true
	})
	// Output: apple=3
}

// Windows of one key, fetched by start; a window expires when stream time
// passes its start by the retention.
func ExampleWindowed() {
	db, err := store.Open("", store.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	clicks, err := db.Windowed("clicks", 10*time.Minute, nil)
	if err != nil {
		panic(err)
	}
	const minute = 60_000
	for _, start := range []int64{0, minute, 2 * minute} {
		clicks.Put([]byte("user-1"), start, []byte(fmt.Sprint(start/minute+1)))
	}
	clicks.Expire(10*minute + 1) // the window at 0 expires
	clicks.Fetch([]byte("user-1"), 0, 5*minute, func(start int64, v []byte) bool {
		fmt.Printf("window at minute %d: %s\n", start/minute, v)
		return true
	})
	// Output:
	// window at minute 1: 2
	// window at minute 2: 3
}
