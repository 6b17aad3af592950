package flow

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestAppStandbyTakeover: word count in a child process (this test
// binary, TestStandbyChild) runs every task; an instance of this process
// joins with StandbyReplicas 1 (and so does the child): it runs half the
// tasks and keeps standbys of the child's. Words flow; the child is
// killed (SIGKILL). This instance takes the child's tasks over, restoring
// only the tail its standbys had not read (OnRestore: from their
// checkpoint, a small part of the changelog), and every count is written
// exactly once.
func TestAppStandbyTakeover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addr, admin := testBroker(t, ctx, 0)
	words := newWordProducer(t, addr)
	counts := readCounts(t, ctx, addr, true)
	dir := t.TempDir()
	var childLog lockedBuffer
	child := exec.Command(os.Args[0], "-test.run=^TestStandbyChild$", "-test.v")
	child.Env = append(os.Environ(), "WEIR_FLOW_STANDBY_CHILD="+addr, "WEIR_FLOW_STANDBY_DIR="+dir+"/child")
	child.Stdout, child.Stderr = &childLog, &childLog
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = child.Process.Signal(syscall.SIGKILL)
			_ = child.Wait()
		}
		if t.Failed() {
			t.Logf("the child's log:\n%s", childLog.String())
		}
	}()
	waitGroup(t, ctx, admin, 1)
	local := startInstance(t, addr, "local", instanceConfig{standbys: 1, stateDir: dir + "/local"})
	waitGroup(t, ctx, admin, 2)
	words.produce(t, ctx, 150)
	counts.wait(t, ctx, 150)

	stop := words.flow(t, ctx, 10*time.Millisecond)
	mark := local.restores.mark()
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	killed = true
	waitGroup(t, ctx, admin, 1)
	rounds := stop()
	checkExact(t, counts.wait(t, ctx, rounds), rounds)

	taken := 0
	for _, r := range local.restores.done(mark) {
		t.Logf("restored %s/%d from %d to %d: %d records", r.Topic, r.Partition, r.StartOffset, r.EndOffset, r.Restored)
		if r.StartOffset == 0 || r.Restored*10 > r.EndOffset {
			t.Errorf("task %s restored %d records from offset %d, of %d: not a standby's tail", r.Task, r.Restored, r.StartOffset, r.EndOffset)
		}
		taken++
	}
	if taken == 0 {
		t.Fatal("no store restored after the kill")
	}
}

// TestStandbyChild is the child process of TestAppStandbyTakeover: it
// runs word count with a standby replica until it is killed.
func TestStandbyChild(t *testing.T) {
	addr := os.Getenv("WEIR_FLOW_STANDBY_CHILD")
	if addr == "" {
		t.Skip("run by TestAppStandbyTakeover")
	}
	app, err := New(wordCount(), Config{ApplicationID: "wc", Brokers: []string{addr}, StateDir: os.Getenv("WEIR_FLOW_STANDBY_DIR"),
		SessionTimeout: 2 * time.Second, TransactionTimeout: 3 * time.Second, StandbyReplicas: 1,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}
