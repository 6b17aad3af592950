package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/examples/nexmark"
	model "github.com/weir-io/weir/flow/nexmark"
)

// Targets and Flink's published figures, in events a second per core.
var (
	targets = map[string]float64{"q0": 500_000, "q1": 500_000, "q2": 500_000, "q3": 300_000, "q8": 300_000,
		"q4": 100_000, "q5": 100_000, "q7": 100_000}
	flink = map[string]float64{"q0": 155_000, "q1": 158_000, "q2": 175_000, "q3": 152_000, "q4": 34_000,
		"q5": 22_000, "q7": 12_300, "q8": 146_000}
)

// benchFlags are bench's settings.
type benchFlags struct {
	weir, brokers, dataDir, profileDir string
	logLevel                           string
	queries                            []nexmark.Query
	runs                               int
	batch                              bool
	partitions                         int32
	grace, mergeGrace, timeout         time.Duration
	gen                                generatorFlags
}

func bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	var f benchFlags
	fs.StringVar(&f.weir, "weir", "", "weir binary: start `weir serve` on a fresh data directory and a free port")
	fs.StringVar(&f.brokers, "b", "", "bootstrap brokers of a running broker, instead of -weir")
	fs.StringVar(&f.dataDir, "data-dir", "", "parent of the broker's data directory and the flow state (default: the system's temporary directory); removed at the end")
	fs.StringVar(&f.profileDir, "cpu-profile-dir", "", "keep each run's CPU profile of the flow process here (QUERY-RUN.prof)")
	queries := fs.String("queries", "q0,q1,q2,q3,q4,q5,q6,q7,q8", "queries to run, comma-separated")
	fs.IntVar(&f.runs, "runs", 3, "runs of each query")
	fs.BoolVar(&f.batch, "batch", false, "run the queries in batch mode: each child reads the input to its end, closes everything and exits")
	partitions := fs.Int("partitions", 1, "partitions of the input topic (with more than one, the check assumes -grace and -merge-grace cover the partitions' drift)")
	fs.DurationVar(&f.grace, "grace", -1, "the queries' grace (default: what -out-of-order needs)")
	fs.DurationVar(&f.mergeGrace, "merge-grace", 0, "grace of q5's and q7's merging stages")
	fs.DurationVar(&f.timeout, "timeout", 15*time.Minute, "longest run")
	fs.StringVar(&f.logLevel, "log-level", "warn", "least severe level the flow processes log")
	f.gen.register(fs)
	fs.Parse(args)
	if (f.weir == "") == (f.brokers == "") {
		return errors.New("bench: give either -weir (a broker is started) or -b (a running broker)")
	}
	if f.gen.events <= 0 {
		return errors.New("bench: -events must be positive")
	}
	f.partitions = int32(*partitions)
	for _, name := range strings.Split(*queries, ",") {
		q, err := nexmark.Lookup(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		f.queries = append(f.queries, q)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runBench(ctx, f)
}

// runResult is one run of a query.
type runResult struct {
	cpu, brokerCPU, wall time.Duration
	rows                 int
}

func (r runResult) perCPUSecond(events int64) float64 { return float64(events) / r.cpu.Seconds() }

func runBench(ctx context.Context, f benchFlags) error {
	parent, err := os.MkdirTemp(f.dataDir, "nexmark-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(parent)
	var b *broker
	if f.weir != "" {
		if b, err = startBroker(ctx, f.weir, filepath.Join(parent, "broker")); err != nil {
			return err
		}
		defer b.stop()
		f.brokers = b.addr
	}
	config, err := f.gen.config()
	if err != nil {
		return err
	}
	if f.grace < 0 {
		f.grace = graceFor(config)
	}
	fmt.Printf("generating %d events (%v of event time, out-of-order groups of %d); grace %v, merge grace %v\n",
		config.NumEvents, time.Duration(config.NumEvents)*config.InterEventDelay, config.OutOfOrderGroupSize, f.grace, f.mergeGrace)
	events, err := model.Generate(config)
	if err != nil {
		return err
	}
	const input = "nexmark-events"
	if err := writeInput(ctx, f.brokers, input, f.partitions, config); err != nil {
		return err
	}
	results := map[string][]runResult{}
	for _, q := range f.queries {
		cfg := nexmark.Config{Input: input, Grace: f.grace, MergeGrace: f.mergeGrace}
		want := q.Expected(events, cfg)
		if f.batch {
			want = q.ExpectedAtEnd(events)
		}
		for i := 1; i <= f.runs; i++ {
			r, err := benchRun(ctx, f, b, q, cfg, i, want, parent)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", q.Name, i, err)
			}
			results[q.Name] = append(results[q.Name], r)
			fmt.Printf("%s run %d: %d rows; flow process %.2f CPU s (%.0f events/s per core), wall %.2f s; broker %.2f CPU s\n",
				q.Name, i, r.rows, r.cpu.Seconds(), r.perCPUSecond(config.NumEvents), r.wall.Seconds(), r.brokerCPU.Seconds())
		}
	}
	printSummary(os.Stdout, f.queries, results, config.NumEvents)
	return nil
}

// graceFor is the grace the generator's out-of-order groups need: (size-1)
// inter-event delays, rounded up to a millisecond.
func graceFor(c model.GeneratorConfig) time.Duration {
	if c.OutOfOrderGroupSize <= 1 {
		return 0
	}
	spread := time.Duration(c.OutOfOrderGroupSize-1) * c.InterEventDelay
	return spread.Truncate(time.Millisecond) + time.Millisecond
}

// writeInput writes the events of config to a new topic.
func writeInput(ctx context.Context, brokers, topic string, partitions int32, config model.GeneratorConfig) error {
	client, err := producer(strings.Split(brokers, ","))
	if err != nil {
		return err
	}
	defer client.Close()
	if _, err := ensureTopic(ctx, kadm.NewClient(client), topic, partitions); err != nil {
		return err
	}
	g, err := model.NewGenerator(config)
	if err != nil {
		return err
	}
	start := time.Now()
	n, err := nexmark.WriteEvents(ctx, client, topic, g, partitions, 0)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %d events to %s (%d partitions) in %v\n", n, topic, partitions, time.Since(start).Round(time.Millisecond))
	return nil
}

// benchRun runs query q once in a child process, until its output is
// want and it has committed its whole input.
func benchRun(ctx context.Context, f benchFlags, b *broker, q nexmark.Query, cfg nexmark.Config, i int, want []string, parent string) (runResult, error) {
	appID := fmt.Sprintf("nexmark-%s-%d-%d", q.Name, time.Now().UnixNano(), i)
	cfg.Output = appID + "-rows"
	stateDir := filepath.Join(parent, "state-"+appID)
	defer os.RemoveAll(stateDir)
	exe, err := os.Executable()
	if err != nil {
		return runResult{}, err
	}
	args := []string{"run", "-b", f.brokers, "-query", q.Name, "-input", cfg.Input, "-output", cfg.Output, "-app-id", appID,
		"-grace", cfg.Grace.String(), "-merge-grace", cfg.MergeGrace.String(), "-state-dir", stateDir, "-log-level", f.logLevel}
	if f.batch {
		args = append(args, "-batch")
	}
	if f.profileDir != "" {
		args = append(args, "-cpu-profile", filepath.Join(f.profileDir, fmt.Sprintf("%s-%d.prof", q.Name, i)))
	}
	watch, err := newWatcher(f.brokers, appID, cfg.Input, cfg.Output)
	if err != nil {
		return runResult{}, err
	}
	defer watch.close()
	var brokerStart time.Duration
	if b != nil {
		if brokerStart, err = processCPU(b.cmd.Process.Pid); err != nil {
			return runResult{}, err
		}
	}
	child := exec.CommandContext(ctx, exe, args...)
	child.Stdout, child.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	if err := child.Start(); err != nil {
		return runResult{}, err
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	defer stopChild(child, exited)

	deadline := time.Now().Add(f.timeout)
	var r runResult
	hasExited := false // in batch mode: the flow process has exited, with status 0
	for {
		select {
		case err := <-exited:
			if !f.batch {
				return runResult{}, fmt.Errorf("the flow process exited: %v", err)
			}
			if err != nil {
				return runResult{}, fmt.Errorf("the flow process failed: %v", err)
			}
			hasExited = true
			// The rusage of a process that has exited counts all of
			// its life, exactly.
			r.wall = time.Since(start)
			r.cpu = child.ProcessState.UserTime() + child.ProcessState.SystemTime()
			if b != nil {
				if r.brokerCPU, err = brokerCPUSince(b, brokerStart); err != nil {
					return r, err
				}
			}
		default:
		}
		done, rows, err := watch.poll(ctx, q, want)
		if err != nil {
			return runResult{}, err
		}
		switch {
		case done && f.batch && hasExited:
			r.rows = rows
			return r, nil
		case done && !f.batch:
			r = runResult{wall: time.Since(start), rows: rows}
			if r.cpu, err = processCPU(child.Process.Pid); err != nil {
				return r, err
			}
			if b != nil {
				if r.brokerCPU, err = brokerCPUSince(b, brokerStart); err != nil {
					return r, err
				}
			}
			return r, nil
		}
		if time.Now().After(deadline) {
			if hasExited {
				return runResult{}, fmt.Errorf("the flow process exited, but its output is not the answer after %v: %d rows of %d; offsets (committed/end): %s",
					f.timeout, rows, len(want), watch.progress(ctx))
			}
			// Go prints every goroutine's stack on SIGQUIT: where the
			// flow process is stuck.
			child.Process.Signal(syscall.SIGQUIT)
			<-exited
			return runResult{}, fmt.Errorf("not done after %v: %d rows of %d; offsets (committed/end): %s",
				f.timeout, rows, len(want), watch.progress(ctx))
		}
	}
}

// brokerCPUSince is the CPU time the broker has used since start (an
// earlier processCPU of it).
func brokerCPUSince(b *broker, start time.Duration) (time.Duration, error) {
	now, err := processCPU(b.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	return now - start, nil
}

// stopChild stops the flow process (SIGTERM, then SIGKILL after 30 s).
func stopChild(child *exec.Cmd, exited chan error) {
	if child.ProcessState != nil {
		return // exited
	}
	child.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		child.Process.Kill()
		<-exited
	}
}

// watcher follows a run: the output records (read_committed) and the
// offsets the application committed on its input.
type watcher struct {
	client        *kgo.Client
	admin         *kadm.Client
	group, input  string
	records       []nexmark.Record
	lastOffsetsAt time.Time
	inputDone     bool
}

func newWatcher(brokers, group, input, output string) (*watcher, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.ConsumeTopics(output),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	return &watcher{client: client, admin: kadm.NewClient(client), group: group, input: input}, nil
}

func (w *watcher) close() { w.client.Close() }

// poll reads what came, and reports whether the run is done: the
// application has committed its whole input and the output is want. An
// output that cannot become want (more rows than wanted, or other rows)
// is an error.
func (w *watcher) poll(ctx context.Context, q nexmark.Query, want []string) (bool, int, error) {
	pollCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	fetches := w.client.PollFetches(pollCtx)
	cancel()
	if ctx.Err() != nil {
		return false, 0, ctx.Err()
	}
	fetches.EachRecord(func(r *kgo.Record) {
		w.records = append(w.records, nexmark.Record{Key: r.Key, Value: r.Value})
	})
	if !w.inputDone && time.Since(w.lastOffsetsAt) > 200*time.Millisecond {
		w.lastOffsetsAt = time.Now()
		done, err := w.committedAll(ctx)
		if err != nil {
			return false, 0, err
		}
		w.inputDone = done
	}
	if !q.Table && len(w.records) < len(want) {
		return false, len(w.records), nil
	}
	rows, err := q.Rows(w.records)
	if err != nil {
		return false, len(rows), err
	}
	if slices.Equal(rows, want) {
		return w.inputDone, len(rows), nil
	}
	if !q.Table {
		return false, len(rows), fmt.Errorf("the output is not the reference answer: %d rows, want %d; first differences:\n%s",
			len(rows), len(want), firstDifferences(rows, want))
	}
	// A table's rows change until the application is done: the timeout
	// decides.
	return false, len(rows), nil
}

// committedAll reports whether the group has committed the end offset of
// every partition of the input.
func (w *watcher) committedAll(ctx context.Context) (bool, error) {
	ends, err := w.admin.ListEndOffsets(ctx, w.input)
	if err != nil {
		return false, err
	}
	committed, err := w.admin.FetchOffsets(ctx, w.group)
	if err != nil {
		return false, nil // the group may not exist yet
	}
	done := true
	ends.Each(func(end kadm.ListedOffset) {
		c, ok := committed.Lookup(end.Topic, end.Partition)
		if !ok || c.At < end.Offset {
			done = false
		}
	})
	return done, nil
}

// progress describes the offsets the group committed on every topic it
// reads, against their end offsets.
func (w *watcher) progress(ctx context.Context) string {
	committed, err := w.admin.FetchOffsets(ctx, w.group)
	if err != nil {
		return err.Error()
	}
	var topics []string
	for topic := range committed {
		topics = append(topics, topic)
	}
	ends, err := w.admin.ListEndOffsets(ctx, topics...)
	if err != nil {
		return err.Error()
	}
	var parts []string
	committed.Each(func(c kadm.OffsetResponse) {
		end, _ := ends.Lookup(c.Topic, c.Partition)
		parts = append(parts, fmt.Sprintf("%s/%d %d/%d", c.Topic, c.Partition, c.At, end.Offset))
	})
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// firstDifferences lists the first rows in one sorted answer and not the
// other.
func firstDifferences(got, want []string) string {
	var b strings.Builder
	i, j, shown := 0, 0, 0
	for (i < len(got) || j < len(want)) && shown < 5 {
		switch {
		case j == len(want) || i < len(got) && got[i] < want[j]:
			fmt.Fprintf(&b, "  unexpected %s\n", got[i])
			i, shown = i+1, shown+1
		case i == len(got) || want[j] < got[i]:
			fmt.Fprintf(&b, "  missing    %s\n", want[j])
			j, shown = j+1, shown+1
		default:
			i, j = i+1, j+1
		}
	}
	return b.String()
}

// processCPU returns the user and system CPU time a process has used so
// far, from /proc/<pid>/stat (in clock ticks of 1/100 s, Linux's USER_HZ
// on every architecture Go runs on).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: the fields
	// after it start with the state, field 3 of proc(5); utime and
	// stime are fields 14 and 15.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100), nil
}

// broker is a `weir serve` process.
type broker struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

// startBroker starts `weir serve` on dataDir and a free loopback port and
// waits until it answers.
func startBroker(ctx context.Context, weir, dataDir string) (*broker, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	// The events' timestamps are their event times, from 2026-01-01 on:
	// time retention would delete them, in every topic, at the
	// cleaner's first pass.
	cmd := exec.Command(weir, "serve", "--data-dir", dataDir, "--listen", addr, "--metrics-listen", "",
		"--group-initial-rebalance-delay", "0s", "--log-retention-ms", "-1", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &broker{cmd: cmd, addr: addr, done: make(chan error, 1)}
	go func() { b.done <- cmd.Wait() }()
	client, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		b.stop()
		return nil, err
	}
	defer client.Close()
	for deadline := time.Now().Add(30 * time.Second); ; {
		pingCtx, cancel := context.WithTimeout(ctx, time.Second)
		err = client.Ping(pingCtx)
		cancel()
		if err == nil {
			fmt.Printf("broker %s (pid %d) on %s\n", weir, cmd.Process.Pid, addr)
			return b, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			b.stop()
			return nil, fmt.Errorf("the broker does not answer: %w", err)
		}
		select {
		case err := <-b.done:
			return nil, fmt.Errorf("the broker exited: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop stops the broker (SIGTERM, then SIGKILL after 30 s).
func (b *broker) stop() {
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
	}
}

// printSummary prints the medians of the runs beside the targets and
// Flink's figures.
func printSummary(w io.Writer, queries []nexmark.Query, results map[string][]runResult, events int64) {
	fmt.Fprintf(w, "\n%d events; medians of the runs (events per CPU second of the flow process)\n", events)
	fmt.Fprintln(w, "| query | events/s per core | runs | flow CPU s | broker CPU s | rows | target | Flink |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, q := range queries {
		rs := results[q.Name]
		if len(rs) == 0 {
			continue
		}
		perCore := make([]float64, len(rs))
		var runs []string
		for i, r := range rs {
			perCore[i] = r.perCPUSecond(events)
			runs = append(runs, fmt.Sprintf("%.0f", perCore[i]))
		}
		cpu := median(rs, func(r runResult) float64 { return r.cpu.Seconds() })
		brokerCPU := median(rs, func(r runResult) float64 { return r.brokerCPU.Seconds() })
		fmt.Fprintf(w, "| %s | %.0f | %s | %.2f | %.2f | %d | %s | %s |\n", q.Name, median(perCore, func(x float64) float64 { return x }),
			strings.Join(runs, ", "), cpu, brokerCPU, rs[0].rows, figure(targets[q.Name]), figure(flink[q.Name]))
	}
}

// median is the median of f over xs.
func median[T any](xs []T, f func(T) float64) float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// figure formats a rate, "-" for none.
func figure(x float64) string {
	if x == 0 {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', 0, 64)
}
