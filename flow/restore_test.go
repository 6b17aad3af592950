package flow

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestAppRestoreFromChangelogs: two instances count words; all stop,
// their state directories are wiped, two start again: their stores are
// restored in full from the changelogs (every restore starts at the log
// start offset), and the counts go on where they were, each exactly once.
func TestAppRestoreFromChangelogs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addr, admin := testBroker(t, ctx, 0)
	words := newWordProducer(t, addr)
	counts := readCounts(t, ctx, addr, true)
	dir := t.TempDir()
	a := startInstance(t, addr, "a", instanceConfig{stateDir: dir + "/a"})
	b := startInstance(t, addr, "b", instanceConfig{stateDir: dir + "/b"})
	words.produce(t, ctx, 60)
	counts.wait(t, ctx, 60)
	a.stop()
	b.stop()
	for _, d := range []string{dir + "/a", dir + "/b"} {
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}

	ends := changelogEnds(t, ctx, admin)
	a = startInstance(t, addr, "a", instanceConfig{stateDir: dir + "/a"})
	b = startInstance(t, addr, "b", instanceConfig{stateDir: dir + "/b"})
	words.produce(t, ctx, 40)
	checkExact(t, counts.wait(t, ctx, 100), 100)
	// Each instance's first restore of a partition starts at the
	// start; later ones (after rebalances) from its checkpoint.
	restored := map[int32]int64{}
	for _, in := range []*instance{a, b} {
		seen := map[int32]bool{}
		for _, r := range in.restores.done(0) {
			if !seen[r.Partition] && r.StartOffset != 0 {
				t.Errorf("instance %s restored %s/%d from %d, not from the start", in.name, r.Topic, r.Partition, r.StartOffset)
			}
			seen[r.Partition] = true
			restored[r.Partition] += r.Restored
		}
	}
	for p, end := range ends {
		if restored[p] == 0 && end > 0 {
			t.Errorf("changelog partition %d (%d offsets) was not restored: %v", p, end, restored)
		}
	}
	t.Logf("changelog ends %v, records restored %v", ends, restored)
}

// TestAppCheckpointRestore: two instances count many words and stop; they
// start again with their state directories kept: the stores restore only
// what their checkpoints do not cover (next to nothing, as the stop was
// clean), and the counts go on exactly. Then one instance stops while the
// other goes on, and starts again: its tasks restore only the tail the
// other wrote meanwhile.
func TestAppCheckpointRestore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Instances that start together join the group's first generation
	// together: the first does not restore the other's tasks alone.
	addr, admin := testBroker(t, ctx, time.Second)
	words := newWordProducer(t, addr)
	counts := readCounts(t, ctx, addr, true)
	dir := t.TempDir()
	a := startInstance(t, addr, "a", instanceConfig{stateDir: dir + "/a"})
	b := startInstance(t, addr, "b", instanceConfig{stateDir: dir + "/b"})
	const first = 150
	words.produce(t, ctx, first)
	counts.wait(t, ctx, first)
	a.stop()
	b.stop()

	ends := changelogEnds(t, ctx, admin)
	var length int64
	for _, end := range ends {
		length += end
	}
	a = startInstance(t, addr, "a", instanceConfig{stateDir: dir + "/a"})
	b = startInstance(t, addr, "b", instanceConfig{stateDir: dir + "/b"})
	words.produce(t, ctx, 10)
	checkExact(t, counts.wait(t, ctx, first+10), first+10)
	var restored int64
	for _, in := range []*instance{a, b} {
		for _, r := range in.restores.done(0) {
			if r.StartOffset == 0 {
				t.Errorf("instance %s restored %s/%d from the start: no checkpoint used", in.name, r.Topic, r.Partition)
			}
			restored += r.Restored
		}
	}
	t.Logf("after a restart: %d changelog records restored, of %d", restored, length)
	if restored*20 > length {
		t.Fatalf("%d changelog records restored of %d: more than 5%%", restored, length)
	}

	// One instance stops; the other runs its tasks, restoring them in
	// part from its old checkpoints (from the first run), then goes on
	// counting; the first comes back.
	a.stop()
	waitGroup(t, ctx, admin, 1)
	words.produce(t, ctx, 40)
	counts.wait(t, ctx, first+50)
	mark := b.restores.mark()
	ends = changelogEnds(t, ctx, admin)
	a = startInstance(t, addr, "a", instanceConfig{stateDir: dir + "/a"})
	waitGroup(t, ctx, admin, 2)
	words.produce(t, ctx, 10)
	checkExact(t, counts.wait(t, ctx, first+60), first+60)
	restored = 0
	for _, r := range append(a.restores.done(0), b.restores.done(mark)...) {
		if r.StartOffset == 0 {
			t.Errorf("%s/%d restored from the start", r.Topic, r.Partition)
		}
		restored += r.Restored
	}
	length = 0
	for _, end := range ends {
		length += end
	}
	t.Logf("after one instance came back: %d changelog records restored, of %d", restored, length)
	if restored*4 > length {
		t.Fatalf("%d changelog records restored of %d: more than the tail", restored, length)
	}
}
