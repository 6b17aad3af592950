package flow

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestAppCrashCheckpoint: exactly-once state across SIGKILLs with local
// state kept. One instance of word count runs in a child process
// (TestCheckpointChild) that is killed at random moments while words
// flow, and started again at once on the same state directory: it gets
// its tasks back with the state it left, the stores of a task holding
// the writes of the transaction the kill cut short, which never
// committed. Its checkpoint must not vouch for them (the first write of
// a transaction removes it): every count is written once, in order.
// Nobody else writes the changelogs meanwhile, so the restore from a
// checkpoint would not overwrite what the aborted transaction left. The
// child commits every second, so that its transactions write more to
// Pebble's log than Pebble keeps in memory before writing it to the file
// (a kill loses what is only in memory).
func TestAppCrashCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	addr, admin := testBroker(t, ctx, 0)
	words := newWordProducer(t, addr)
	counts := readCounts(t, ctx, addr, true)
	dir := t.TempDir()
	var childLog lockedBuffer
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCheckpointChild$", "-test.v")
		cmd.Env = append(os.Environ(), "WEIR_FLOW_CHECKPOINT_CHILD="+addr, "WEIR_FLOW_CHECKPOINT_DIR="+dir)
		cmd.Stdout, cmd.Stderr = &childLog, &childLog
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	child := start()
	defer func() {
		_ = child.Process.Signal(syscall.SIGKILL)
		_ = child.Wait()
		if t.Failed() {
			t.Logf("the child processes' logs:\n%s", childLog.String())
		}
	}()
	for k := range 3 {
		waitGroup(t, ctx, admin, 1)
		stop := words.flow(t, ctx, time.Millisecond)
		// Let it process for a random while, then kill it.
		wait := time.Duration(300+rng.IntN(1200)) * time.Millisecond
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = child.Wait()
		rounds := stop()
		t.Logf("kill %d after %d rounds", k+1, rounds)
		child = start()
	}
	words.mu.Lock()
	rounds := words.rounds
	words.mu.Unlock()
	checkExact(t, counts.wait(t, ctx, rounds), rounds)
}

// TestCheckpointChild is the child process of TestAppCrashCheckpoint: it
// runs word count until it is killed.
func TestCheckpointChild(t *testing.T) {
	addr := os.Getenv("WEIR_FLOW_CHECKPOINT_CHILD")
	if addr == "" {
		t.Skip("run by TestAppCrashCheckpoint")
	}
	app, err := New(wordCount(), Config{ApplicationID: "wc", Brokers: []string{addr}, StateDir: os.Getenv("WEIR_FLOW_CHECKPOINT_DIR"),
		SessionTimeout: 2 * time.Second, TransactionTimeout: 2 * time.Second, CommitInterval: time.Second,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}
