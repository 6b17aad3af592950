package jepsen

// TestJepsen: a Jepsen-style run of the Kafka workload against a broker
// that is SIGKILLed at random moments.
//
// The workload (workload_test.go). Against one topic of 5 partitions:
//
//   - 3 transactional producers (franz-go, a transactional id each): each
//     transaction sends 2-5 records with unique values to 1-3 partitions,
//     then commits (3 times in 4) or aborts; a failed send means an abort.
//     One EndTxn in ten has a deadline of a few milliseconds, which it may
//     miss. After an error of EndTxn, the client is closed and re-created
//     with the same transactional id, which fences its predecessor. The
//     broker finalizes transactions version 2: producers txn-0 and txn-2
//     use it (KIP-890 part 2: no AddPartitionsToTxn, an epoch bump per
//     transaction), txn-1 has its request versions capped to those of
//     version 1 (AddPartitionsToTxn, one epoch).
//   - 2 idempotent producers (franz-go's default): batches of 1-6 records
//     with unique values to random partitions, one client for the run.
//   - 2 read_committed consumers assigned every partition from offset 0,
//     one session for the run.
//   - 2 read_committed members of one consumer group, each committing the
//     offsets of what a poll returned before polling again; rebalances
//     wait for the commit (BlockRebalanceOnPoll).
//
// Every send (value, partition, acknowledged offset or error), transaction
// end (committed, aborted, unknown), poll (partition, offsets and values in
// order), assignment, revocation, loss and offset commit is recorded in the
// history (history_test.go), and so are the nemesis's kills and starts.
//
// The nemesis. The broker runs in a child process (process_test.go) on a
// data directory and a port that survive it. The run is divided into one
// slot more than there are kills; kill i is due at the end of slot i, give
// or take half a slot, once every worker has succeeded at something since
// the last start (a worker stuck for a minute is reported as a failure).
// Every other kill (at random) is aimed: it waits for the next
// EndTxn(commit) to be sent and comes 0-5 ms after it. The nemesis kills
// the broker with SIGKILL and starts it again after a random pause of up
// to a second. After the last slot the workload stops and the broker is
// killed and started once more for the final reads (final_test.go): every
// transactional id fenced, every last stable offset at its high watermark,
// a sentinel at the end of each partition, and every partition read to it,
// read_committed and read_uncommitted.
//
// The checks (checker_test.go, whose table tests show each one failing).
// An operation whose answer never came may have happened or not; a
// transaction atomically; a transaction whose commit was never sent is
// aborted.
//
//   - lost write: an acknowledged record absent from the log or from its
//     acknowledged offset; a record of a committed transaction, or a
//     non-transactional one, in the log but invisible to read_committed.
//   - duplicate: a value twice in the log. phantom: a value nobody sent.
//   - inconsistent offset: a record polled or acknowledged at an offset
//     where the final read has another value.
//   - aborted read: read_committed (a poll during the run, or the final
//     read) returning a record of an aborted transaction, or one never
//     committed in the end.
//   - torn transaction: some of a transaction's records in the log visible
//     to read_committed and others not, whatever its outcome.
//   - non-monotonic poll: offsets going backwards or repeating on a
//     partition within a consumer session, with no seek or rebalance.
//   - skipped offset: a consumer passing over a record visible in the final
//     read_committed read: between two polled records, from its assigned
//     start, or, for a group member given a partition, from the highest
//     offset its group had sent in a commit.
//   - lost commit: a group member given a partition resuming before an
//     offset its group had committed, acknowledged, before the assignment.

// Sizing: 25 s and 3 kills by default; under CI=true 70 s and 5 kills;
// WEIR_JEPSEN_DURATION (and WEIR_JEPSEN_KILLS, one per 15 s by default)
// for soaks; -short skips. Every random choice comes from the seed, logged
// and set by WEIR_JEPSEN_SEED; the timing of clients against kills is what
// varies between runs with the same seed. WEIR_JEPSEN_MUTATE=
// aborted-as-committed breaks the model on purpose: the run must then
// fail.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// runConfig is a run's size and seed.
type runConfig struct {
	duration time.Duration
	kills    int
	seed     uint64
	mutation mutation
}

func loadConfig(t *testing.T) runConfig {
	cfg := runConfig{duration: 25 * time.Second, kills: 3, seed: rand.Uint64()}
	if os.Getenv("CI") == "true" {
		cfg.duration, cfg.kills = 70*time.Second, 5
	}
	if s := os.Getenv("WEIR_JEPSEN_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			t.Fatalf("WEIR_JEPSEN_DURATION=%q: want a positive duration", s)
		}
		cfg.duration, cfg.kills = d, max(1, int(d/(15*time.Second)))
	}
	if s := os.Getenv("WEIR_JEPSEN_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			t.Fatalf("WEIR_JEPSEN_KILLS=%q: want a count", s)
		}
		cfg.kills = n
	}
	if s := os.Getenv("WEIR_JEPSEN_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("WEIR_JEPSEN_SEED=%q: %v", s, err)
		}
		cfg.seed = n
	}
	switch m := mutation(os.Getenv("WEIR_JEPSEN_MUTATE")); m {
	case "", mutateAbortedAsCommitted:
		cfg.mutation = m
	default:
		t.Fatalf("WEIR_JEPSEN_MUTATE=%q: want %s", m, mutateAbortedAsCommitted)
	}
	return cfg
}

// progressTimeout bounds the wait for every worker to make progress after
// a start: recovery, reconnection, a group's rebalance and the abort of
// transactions left open.
const progressTimeout = 60 * time.Second

func TestJepsen(t *testing.T) {
	if testing.Short() {
		t.Skip("a fault-injection run of half a minute or more (the checker's own tests still run)")
	}
	cfg := loadConfig(t)
	t.Logf("seed %d (WEIR_JEPSEN_SEED), %v, %d kills", cfg.seed, cfg.duration, cfg.kills)
	artifacts := t.ArtifactDir()
	rec := newRecorder()
	n := &nemesis{t: t, rec: rec, rng: rand.New(rand.NewPCG(cfg.seed, 0)), broker: newBrokerProcess(t, t.TempDir(), artifacts)}
	n.start()
	createTopic(t, n.broker.addr, defaultWorkload.partitions)
	w := startWorkload(defaultWorkload, n.broker.addr, cfg.seed, rec)
	n.run(w, cfg)
	phase := time.Now()
	w.stop()
	stopped := time.Since(phase)
	n.kill()
	n.start()
	restarted := time.Since(phase)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	final, err := settleAndRead(ctx, n.broker.addr, defaultWorkload.partitions, w.transactionalIDs(), rec)
	cancel()
	n.kill()
	read := time.Since(phase)
	history := rec.history()
	writeArtifact(t, filepath.Join(artifacts, "history.jsonl"), func(f *os.File) error { return writeHistory(f, history) })
	writeArtifact(t, filepath.Join(artifacts, "final.json"), func(f *os.File) error {
		return json.NewEncoder(f).Encode(map[string]map[int32][]record{"read_committed": final.committed, "read_uncommitted": final.uncommitted})
	})
	written := time.Since(phase)
	t.Log(summarize(history, final))
	if err != nil {
		t.Fatalf("final reads: %v", err)
	}
	history = mutate(history, cfg.mutation)
	findings := check(history, final)
	t.Logf("after the workload: stopped in %v, restarted by %v, read by %v, history written by %v, checked by %v",
		stopped.Round(time.Millisecond), restarted.Round(time.Millisecond), read.Round(time.Millisecond),
		written.Round(time.Millisecond), time.Since(phase).Round(time.Millisecond))
	if len(findings) > 0 {
		writeArtifact(t, filepath.Join(artifacts, "findings.txt"), func(f *os.File) error {
			_, err := f.WriteString(describe(history, findings, len(findings)))
			return err
		})
		t.Errorf("%d anomalies (seed %d; history, findings and broker logs in %s, kept with -artifacts):\n%s",
			len(findings), cfg.seed, artifacts, describe(history, findings, 5))
	}
}

// nemesis kills and starts the broker, and records it in the history.
type nemesis struct {
	t      *testing.T
	rec    *recorder
	rng    *rand.Rand
	broker *brokerProcess
}

func (n *nemesis) start() {
	n.broker.start()
	n.rec.event(op{Process: "nemesis", Kind: kindStart, Offset: int64(n.broker.starts)})
}

func (n *nemesis) kill() {
	n.rec.event(op{Process: "nemesis", Kind: kindKill, Offset: int64(n.broker.starts)})
	n.broker.kill()
}

// duringCommit waits (a second at most) for the next EndTxn(commit) to
// be sent, and then up to 5 ms: a kill then lands while the broker writes
// the decision or the markers, or just after.
func (n *nemesis) duringCommit(w *workload) {
	select {
	case <-w.committing: // an old one
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	select {
	case <-w.committing:
		wait(ctx, time.Duration(n.rng.IntN(5000))*time.Microsecond)
	case <-ctx.Done():
	}
}

// run kills and restarts the broker cfg.kills times over cfg.duration. Kill
// i is due at the end of slot i, give or take half a slot, and never before
// every worker has made progress since the last start.
func (n *nemesis) run(w *workload, cfg runConfig) {
	began, slot := time.Now(), cfg.duration/time.Duration(cfg.kills+1)
	since := w.progress.snapshot()
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), progressTimeout)
		idle := w.progress.waitPast(ctx, since)
		cancel()
		if len(idle) > 0 {
			n.t.Errorf("no progress of %v within %v after start %d", idle, progressTimeout, n.broker.starts)
		}
		if i == cfg.kills {
			wait(context.Background(), time.Until(began.Add(cfg.duration)))
			return
		}
		due := began.Add(time.Duration(i+1)*slot - slot/2 + time.Duration(n.rng.Int64N(int64(slot))))
		wait(context.Background(), time.Until(due))
		if n.rng.IntN(2) == 0 {
			n.duringCommit(w)
		}
		n.kill()
		wait(context.Background(), time.Duration(n.rng.IntN(1000))*time.Millisecond)
		n.start()
		since = w.progress.snapshot()
	}
}

// createTopic creates the workload's topic.
func createTopic(t *testing.T, addr string, partitions int32) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
}

// mutation is a deliberate error of the model, to see the checker fail.
type mutation string

const mutateAbortedAsCommitted mutation = "aborted-as-committed"

// mutate returns history as the mutation misreads it.
func mutate(history []op, m mutation) []op {
	if m == "" {
		return history
	}
	out := make([]op, len(history))
	copy(out, history)
	for i := range out {
		if m == mutateAbortedAsCommitted && out[i].Kind == kindTxn && out[i].Outcome == aborted {
			out[i].Commit, out[i].Outcome = true, committed
		}
	}
	return out
}

// summarize counts the history's operations by kind and outcome.
func summarize(history []op, final finalLog) string {
	counts := map[string]int{}
	records := 0
	for _, o := range history {
		key := string(o.Kind)
		if o.Kind == kindSend && o.Txn != "" {
			key = "transactional send"
		}
		switch {
		case o.Kind == kindPoll:
			records += len(o.Records)
		case o.Complete < 0:
			key += " pending"
		case o.Outcome != ok:
			key += " " + string(o.Outcome)
		}
		counts[key]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "history: %d operations;", len(history))
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&b, " %s %d,", k, counts[k])
	}
	fmt.Fprintf(&b, " %d records polled; final log:", records)
	for p := range int32(len(final.uncommitted)) {
		fmt.Fprintf(&b, " p%d %d/%d", p, len(final.committed[p]), len(final.uncommitted[p]))
	}
	b.WriteString(" (read_committed/read_uncommitted)")
	return b.String()
}

// writeArtifact writes a file of the run's artifacts.
func writeArtifact(t *testing.T, path string, write func(*os.File) error) {
	f, err := os.Create(path)
	if err != nil {
		t.Error(err)
		return
	}
	if err := write(f); err != nil {
		t.Error(err)
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}
}
