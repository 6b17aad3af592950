package flow

import (
	"bytes"
	"cmp"
	"slices"
)

// windowCache holds the writes of a window store made since the task's
// last commit, which then writes them to the store (and its changelog):
// a window updated by every record of a commit interval costs one store
// write and one changelog record rather than one per record, and a window
// opened and closed within the interval costs none. It is Kafka Streams'
// record cache, except that it holds back only store writes: the
// operators still forward every update downstream.
//
// Only the time-windowed aggregations use it: they read their store by
// window (get) and remove closed windows by time (removeUpTo), two reads
// the cache answers together with the store. Queries of the store while
// the application runs see it as of the last commit.
type windowCache struct {
	// byTime holds the entries by time (a window's start), then key; a
	// nil value is a deletion.
	byTime map[int64]map[string][]byte
	// times are byTime's keys, in order.
	times []int64
}

func newWindowCache() *windowCache {
	return &windowCache{byTime: make(map[int64]map[string][]byte)}
}

// get returns key's entry at t: found says whether the cache has it
// (then value nil means deleted).
func (c *windowCache) get(key []byte, t int64) (value []byte, found bool) {
	value, found = c.byTime[t][string(key)]
	return value, found
}

// put caches key's entry at t (nil: deleted).
func (c *windowCache) put(key []byte, t int64, value []byte) {
	m := c.byTime[t]
	if m == nil {
		m = make(map[string][]byte)
		c.byTime[t] = m
		i, _ := slices.BinarySearch(c.times, t)
		c.times = slices.Insert(c.times, i, t)
	}
	m[string(key)] = value
}

// take removes and returns the entries at or before last, in order of
// time, then key as the store orders keys (by length, then bytes).
func (c *windowCache) take(last int64) []timedEntry {
	var out []timedEntry
	n := 0
	for _, t := range c.times {
		if t > last {
			break
		}
		n++
		for key, v := range c.byTime[t] {
			out = append(out, timedEntry{key: []byte(key), start: t, t: t, value: v})
		}
		delete(c.byTime, t)
	}
	c.times = c.times[n:]
	slices.SortFunc(out, compareTimed)
	return out
}

// empty says whether the cache holds nothing.
func (c *windowCache) empty() bool { return len(c.times) == 0 }

// compareTimed orders entries as a window store's FetchAll returns them:
// by time, then key (by length, then bytes), then start.
func compareTimed(a, b timedEntry) int {
	if c := cmp.Compare(a.t, b.t); c != 0 {
		return c
	}
	if c := cmp.Compare(len(a.key), len(b.key)); c != 0 {
		return c
	}
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c
	}
	return cmp.Compare(a.start, b.start)
}
