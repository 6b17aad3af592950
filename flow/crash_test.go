package flow

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestAppCrash: exactly-once under SIGKILL. Word count runs in a child
// process (this test binary, TestCrashChild) that is killed at random
// moments while words are produced, and started again; a second
// instance runs in this process throughout, so tasks move back and forth.
// In the end every count of every word must have been written once, in
// order: 1, 2, ... n, read with read_committed. Kills: 4, or
// WEIR_FLOW_CRASH_KILLS.
func TestAppCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	kills := 4
	if s := os.Getenv("WEIR_FLOW_CRASH_KILLS"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	addr := startBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("words"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	admin := kadm.NewClient(cl)
	for _, topic := range []string{"words", "counts"} {
		if _, err := admin.CreateTopic(ctx, 4, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	runApp(t, addr, wordCount(), ExactlyOnce, dir+"/local")

	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), "WEIR_FLOW_CRASH_CHILD="+addr, "WEIR_FLOW_CRASH_DIR="+dir+"/child")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	const words = 10
	rounds := 0
	child := start()
	for k := range kills {
		waitShared(ctx, t, admin)
		// Words keep coming while the child runs, for a random while.
		end := time.Now().Add(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		for time.Now().Before(end) {
			for w := range words {
				cl.Produce(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("w%02d", w))}, nil)
			}
			rounds++
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		}
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = child.Wait()
		t.Logf("kill %d after %d rounds", k+1, rounds)
		child = start()
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	final := waitCounts(ctx, t, addr, words, rounds, ExactlyOnce)
	_ = child.Process.Signal(syscall.SIGKILL)
	_ = child.Wait()
	for w, counts := range final {
		for i, c := range counts {
			if c != int64(i+1) {
				t.Fatalf("word %s: counts %v, want 1 to %d once each", w, counts, rounds)
			}
		}
	}
}

// waitShared waits until both instances are members of the group with
// partitions assigned: the child is then processing when it is killed.
func waitShared(ctx context.Context, t *testing.T, admin *kadm.Client) {
	t.Helper()
	for {
		described, err := admin.DescribeGroups(ctx, "wc")
		if err != nil {
			t.Fatal(err)
		}
		g := described["wc"]
		busy := 0
		for _, m := range g.Members {
			if c, ok := m.Assigned.AsConsumer(); ok && len(c.Topics) > 0 {
				busy++
			}
		}
		if g.State == "Stable" && busy == 2 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the two instances never shared the work: group %+v", g)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestCrashChild is the child process of TestAppCrash: it runs word count
// until it is killed.
func TestCrashChild(t *testing.T) {
	addr := os.Getenv("WEIR_FLOW_CRASH_CHILD")
	if addr == "" {
		t.Skip("run by TestAppCrash")
	}
	app, err := New(wordCount(), Config{ApplicationID: "wc", Brokers: []string{addr}, StateDir: os.Getenv("WEIR_FLOW_CRASH_DIR"), SessionTimeout: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}
