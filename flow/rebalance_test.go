package flow

import (
	"context"
	"testing"
	"time"
)

// TestAppRebalance: word count with two instances (a standby of each
// stateful task on the other), words produced without pause all along; a
// third instance joins, then the first stops. Under exactly-once every
// count of every word is read once, in order (read_committed); at least
// once, none is missing.
func TestAppRebalance(t *testing.T) {
	eachGuarantee(t, testAppRebalance)
}

func testAppRebalance(t *testing.T, g Guarantee) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addr, admin := testBroker(t, ctx, 0)
	words := newWordProducer(t, addr)
	counts := readCounts(t, ctx, addr, g == ExactlyOnce)
	dir := t.TempDir()
	config := func(name string) instanceConfig {
		return instanceConfig{guarantee: g, standbys: 1, stateDir: dir + "/" + name}
	}
	a := startInstance(t, addr, "a", config("a"))
	startInstance(t, addr, "b", config("b"))
	waitGroup(t, ctx, admin, 2)
	stop := words.flow(t, ctx, 10*time.Millisecond)
	// progress waits until what was produced so far is counted, and 30
	// rounds more (a third of a second of words).
	progress := func() {
		words.mu.Lock()
		n := words.rounds
		words.mu.Unlock()
		counts.wait(t, ctx, n+30)
	}
	progress()
	startInstance(t, addr, "c", config("c"))
	waitGroup(t, ctx, admin, 3)
	progress()
	a.stop()
	waitGroup(t, ctx, admin, 2)
	progress()
	rounds := stop()
	got := counts.wait(t, ctx, rounds)
	if g == ExactlyOnce {
		checkExact(t, got, rounds)
		return
	}
	duplicates := 0
	for _, c := range got {
		duplicates += len(c) - rounds
	}
	t.Logf("%d rounds of %d words, %d counts written more than once", rounds, wordCountWords, duplicates)
}
