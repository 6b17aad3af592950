package flow

// Benchmarks of the runtime's state handling against an in-process
// broker: how fast a store restores from its changelog, and how long
// processing pauses when an instance joins or leaves a group of three.
// docs/benchmarks.md ("flow: state restore and rebalancing") has figures
// and the commands.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkRestore restores word count's counts store of one task from a
// changelog partition of 200,000 records (distinct keys, as compaction
// would leave them). full: into an empty state directory, the real path
// of a task that starts without local state (openTasks: offsets listed,
// state opened, records fetched and applied, checkpoint set); it reports
// the records applied per second. checkpoint: the task opened again on
// its kept state, whose checkpoint is at the changelog's end (what every
// task does after a rebalance): the time per opening.
func BenchmarkRestore(b *testing.B) {
	const records = 200_000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	addr, _ := testBroker(b, ctx, 0)
	app, err := New(wordCount(), Config{ApplicationID: "wc", Brokers: []string{addr}, StateDir: b.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(5*time.Millisecond), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	app.admin = kadm.NewClient(cl)
	if err := app.setUpTopics(ctx); err != nil {
		b.Fatal(err)
	}
	if app.restorer, err = newChangelogReader([]string{addr}); err != nil {
		b.Fatal(err)
	}
	defer app.restorer.close()
	changelog := ChangelogTopic("wc", "counts")
	value, _ := Int64().Encode(42)
	for i := range records {
		cl.Produce(ctx, &kgo.Record{Topic: changelog, Partition: 0, Key: []byte(fmt.Sprintf("word-%07d", i)), Value: value}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	id := taskID{sub: 1, partition: 0}
	var restored int64
	app.cfg.OnRestore = func(p RestoreProgress) {
		if p.Done {
			restored = p.Restored
		}
	}
	open := func(b *testing.B, want int64) {
		if err := app.openTasks(ctx, []taskID{id}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if restored != want {
			b.Fatalf("%d records restored, want %d", restored, want)
		}
		app.tasksMu.Lock()
		app.closeTasks(nil, true)
		app.tasksMu.Unlock()
		b.StartTimer()
	}
	b.Run("full", func(b *testing.B) {
		for i := range b.N {
			b.StopTimer()
			app.cfg.StateDir = fmt.Sprintf("%s/%d", b.TempDir(), i)
			b.StartTimer()
			open(b, records)
		}
		b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("checkpoint", func(b *testing.B) {
		b.StopTimer()
		app.cfg.StateDir = b.TempDir()
		open(b, records)
		b.StartTimer()
		for range b.N {
			open(b, 0)
		}
	})
}

// BenchmarkRebalancePause runs word count exactly once on two instances
// with words flowing (4,000 a second), starts a third, then stops one
// (it leaves the group), and reports the longest time without any new
// count read (read_committed) in the 5 seconds after each, in
// milliseconds: pause-join-ms and pause-leave-ms, the longest time any
// word's count stood still (every word is produced every 5 ms, so a
// word's counts stop only while its task does); steady-ms is the same
// measure over 5 seconds before the join, the commits' own rhythm. Run
// it once per measure: -benchtime=1x.
func BenchmarkRebalancePause(b *testing.B) {
	for _, standbys := range []int{0, 1} {
		b.Run(fmt.Sprintf("standbys=%d", standbys), func(b *testing.B) {
			for range b.N {
				benchRebalancePause(b, standbys)
			}
		})
	}
}

func benchRebalancePause(b *testing.B, standbys int) {
	const window = 5 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	addr, admin := testBroker(b, ctx, 0)
	words := newWordProducer(b, addr)
	counts := readCounts(b, ctx, addr, true)
	dir := b.TempDir()
	config := func(name string) instanceConfig {
		return instanceConfig{standbys: standbys, stateDir: dir + "/" + name}
	}
	first := startInstance(b, addr, "a", config("a"))
	startInstance(b, addr, "b", config("b"))
	waitGroup(b, ctx, admin, 2)
	stop := words.flow(b, ctx, 5*time.Millisecond)
	defer stop()
	counts.wait(b, ctx, 100)
	pause := func(during func()) time.Duration {
		from := time.Now()
		during()
		time.Sleep(time.Until(from.Add(window)))
		return counts.longestGap(from, from.Add(window))
	}
	steady := pause(func() {})
	join := pause(func() {
		startInstance(b, addr, "c", config("c"))
		waitGroup(b, ctx, admin, 3)
	})
	leave := pause(func() {
		first.stop()
		waitGroup(b, ctx, admin, 2)
	})
	rounds := stop()
	checkExact(b, counts.wait(b, ctx, rounds), rounds)
	b.ReportMetric(float64(steady.Milliseconds()), "steady-ms")
	b.ReportMetric(float64(join.Milliseconds()), "pause-join-ms")
	b.ReportMetric(float64(leave.Milliseconds()), "pause-leave-ms")
}

// longestGap returns the longest time a word went without a new count
// within [from, to] (from and to count as arrivals): the longest pause of
// a task.
func (r *countReader) longestGap(from, to time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var gap time.Duration
	for _, arrivals := range r.arrivals {
		last := from
		for _, at := range arrivals {
			if at.After(from) && at.Before(to) {
				if at.Sub(last) > 200*time.Millisecond {
					fmt.Printf("GAP %s -> %s\n", last.Format("15:04:05.000"), at.Format("15:04:05.000"))
				}
				gap = max(gap, at.Sub(last))
				last = at
			}
		}
		gap = max(gap, to.Sub(last))
	}
	return gap
}
