package cli

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/brokertest"
)

// testTimeout bounds every command a test runs.
const testTimeout = 60 * time.Second

// newTestRoot is the weir root command as cmd/weir builds it, with only
// this package's commands.
func newTestRoot() *cobra.Command {
	root := &cobra.Command{Use: "weir", SilenceUsage: true, SilenceErrors: true, Args: NoArgs, RunE: ShowHelp}
	root.SetFlagErrorFunc(FlagError)
	root.AddCommand(NewTopicCommand(), NewProduceCommand(), NewConsumeCommand(), NewClusterCommand(), NewGroupCommand(),
		NewTxnCommand(), NewProducerCommand(), NewFlowCommand())
	return root
}

// result is what a command printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

// invocation is one command to run.
type invocation struct {
	args   []string
	stdin  string
	stdout io.Writer // optional, for commands that run in the background
}

// run runs `weir args...` with stdin and returns what it printed; stderr
// ends with the error as main prints it.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return runContext(ctx, invocation{args: args, stdin: stdin})
}

// runContext runs a command until it returns or ctx is canceled.
func runContext(ctx context.Context, inv invocation) result {
	root := newTestRoot()
	var stdout, stderr bytes.Buffer
	root.SetArgs(inv.args)
	root.SetIn(strings.NewReader(inv.stdin))
	if inv.stdout != nil {
		root.SetOut(inv.stdout)
	} else {
		root.SetOut(&stdout)
	}
	root.SetErr(&stderr)
	err := root.ExecuteContext(ctx)
	if err != nil {
		stderr.WriteString("weir: " + err.Error() + "\n")
	}
	return result{stdout.String(), stderr.String(), ExitCode(err)}
}

// mustRun runs a command that must succeed.
func mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := run(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("weir %s: exit code %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// startBroker starts a broker and returns its address.
func startBroker(t *testing.T, cfg broker.Config) string {
	t.Helper()
	return brokertest.Start(t, cfg).Addr().String()
}

// produceRecords writes records with a franz-go client, for tests that need
// what the CLI cannot choose (timestamps). Records go to the partition they
// name.
func produceRecords(t *testing.T, addr string, records ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(), kgo.DisableIdempotentWrite(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// watchedBuffer collects a background command's output and lets the test
// wait until the output satisfies a condition.
type watchedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newWatchedBuffer() *watchedBuffer {
	return &watchedBuffer{changed: make(chan struct{})}
}

func (w *watchedBuffer) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(b)
	close(w.changed)
	w.changed = make(chan struct{})
	return n, err
}

// waitFor waits until cond holds for the output, or fails the test when
// ctx ends first.
func (w *watchedBuffer) waitFor(ctx context.Context, t *testing.T, what string, cond func(string) bool) {
	t.Helper()
	for {
		w.mu.Lock()
		out, changed := w.buf.String(), w.changed
		w.mu.Unlock()
		if cond(out) {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; output so far:\n%s", what, ctx.Err(), out)
		}
	}
}

func (w *watchedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
