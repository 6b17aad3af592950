package storage

// The crash test of transactions.
//
// TestTxnCrash starts a writer process (this test binary again, with only
// TestTxnCrashWriterProcess selected and WEIR_TXN_CRASH_DIR set), which
// runs three transactional producers per partition (new producer ids each
// round; one of them with long transactions), one goroutine per partition:
// each step opens or continues a producer's transaction with a
// transactional batch, or ends it with a commit or abort marker chosen at
// random, or appends a plain batch, each
// with AppendDurable, and prints "A <partition> <kind> <producer> <base>
// <last>" once it returned. The cleaner relocates and retention deletes
// all the while (small segments, retention.bytes), and checkpoints come
// and go, so that recovery replays batches the index already holds.
//
// The parent kills it with SIGKILL at a random moment and opens the engine
// on the same directory. Since a partition's appends are sequential, the
// log holds every acknowledged batch and at most one more. For every
// partition it checks that:
//
//  1. every batch from the log start is the one acknowledged at its offset
//     (same kind, same producer), and the only other batch is one at the
//     end, which it then takes into account;
//  2. the last stable offset is the first offset of the oldest transaction
//     without a marker in the log (or the high watermark), and the aborted
//     index is exactly the transactions ended by an abort marker in the log
//     above the log start: so every acknowledged abort marker is in it.
//
// Every third round it checks the same again after a clean restart and
// after an index rebuild, which derives the transactions from the batches
// from the log start only (transactions.go). Then it aborts the transactions left open, so
// that the next round starts clean, and closes. Rounds repeat on the same
// directory (WEIR_TXN_CRASH_ROUNDS; 6 by default, 15 when CI=true).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/weir-io/weir/internal/recordbatch"
)

const (
	txnCrashDir        = "WEIR_TXN_CRASH_DIR"
	txnCrashRound      = "WEIR_TXN_CRASH_ROUND"
	txnCrashTopic      = "txn"
	txnCrashPartitions = 4
	txnCrashProducers  = 3
)

// txnCrashProducer is the id of a writer's k-th producer in a partition.
func txnCrashProducer(round int64, partition int32, k int) int64 {
	return round*100 + int64(partition)*10 + int64(k)
}

func TestTxnCrashWriterProcess(t *testing.T) {
	dir := os.Getenv(txnCrashDir)
	if dir == "" {
		t.Skip("the writer of TestTxnCrash")
	}
	round, _ := strconv.ParseInt(os.Getenv(txnCrashRound), 10, 64)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := Open(crashOptions(dir, logger, nil, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Topic(txnCrashTopic); errors.Is(err, ErrUnknownTopicOrPartition) {
		if _, err := e.CreateTopic(txnCrashTopic, txnCrashPartitions, crashTopicConfig()); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	fmt.Println("ready")
	var wg sync.WaitGroup
	for i := range int32(txnCrashPartitions) {
		p, err := e.Partition(txnCrashTopic, i)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(round), uint64(i)))
			seqs := map[int64]int32{}
			open := map[int64]bool{}
			for {
				// Producer 0's transactions are long: they hold the last
				// stable offset back over many batches.
				k := rng.IntN(txnCrashProducers)
				producer := txnCrashProducer(round, i, k)
				ends := rng.IntN(8) < 4
				if k == 0 {
					ends = rng.IntN(60) == 0
				}
				kind := byte(txnData)
				switch {
				case rng.IntN(8) == 0:
					kind = txnPlain
				case open[producer] && ends:
					kind = txnAbort
					if rng.IntN(2) == 0 {
						kind = txnCommit
					}
				}
				var batch []byte
				switch kind {
				case txnData:
					var rs []rec
					for range 1 + rng.IntN(3) {
						v := make([]byte, 300+rng.IntN(700))
						for j := range v {
							v[j] = byte(rng.IntN(256))
						}
						rs = append(rs, rec{value: v})
					}
					batch = txnBatch(t, producer, seqs[producer], rs...)
					seqs[producer] += int32(len(rs))
				case txnCommit, txnAbort:
					batch = markerBatch(t, producer, kind == txnCommit)
				case txnPlain:
					batch = valueBatch(t, "plain", 1+rng.IntN(3), crashEpoch)
					producer = -1
				}
				res, err := p.AppendDurable(t.Context(), batch)
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(2)
				}
				open[producer] = kind == txnData
				mu.Lock()
				fmt.Printf("A %d %c %d %d %d\n", i, kind, producer, res.BaseOffset, res.LastOffset)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// txnCrashBatch is what the parent knows of a batch: its kind and
// producer.
type txnCrashBatch struct {
	kind     byte
	producer int64
	last     int64
}

// txnCrashPartition is what the parent knows of a partition.
type txnCrashPartition struct {
	model   *txnModel
	batches map[int64]txnCrashBatch // by base offset
}

func (c *txnCrashPartition) add(kind byte, producer, base, last int64) {
	c.model.apply(kind, producer, base, last)
	c.batches[base] = txnCrashBatch{kind, producer, last}
}

// rebuilt replaces the model with what an index rebuild derives: the
// transactions of the batches from the log start only.
func (c *txnCrashPartition) rebuilt(logStart int64) {
	bases := slices.Sorted(maps.Keys(c.batches))
	m := newTxnModel()
	for _, base := range bases {
		if b := c.batches[base]; b.last >= logStart {
			m.apply(b.kind, b.producer, base, b.last)
		}
	}
	m.next = c.model.next
	c.model = m
}

func TestTxnCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	rounds := 6
	if os.Getenv("CI") == "true" {
		rounds = 15
	}
	if s := os.Getenv("WEIR_TXN_CRASH_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	parts := map[int32]*txnCrashPartition{}
	for i := range int32(txnCrashPartitions) {
		parts[i] = &txnCrashPartition{model: newTxnModel(), batches: map[int64]txnCrashBatch{}}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := crashOptions(dir, quiet, nil, -1)
	for round := int64(1); round <= int64(rounds); round++ {
		acks := runTxnCrashWriter(t, dir, round)
		for _, a := range acks {
			parts[a.partition].add(a.kind, a.producer, a.base, a.last)
		}
		e := openTest(t, opts)
		for i, c := range parts {
			p, err := e.Partition(txnCrashTopic, i)
			if err != nil {
				t.Fatal(err)
			}
			c.takeUnacknowledged(t, round, p)
			c.check(t, fmt.Sprintf("round %d, partition %d", round, i), p)
		}
		if round%3 == 0 {
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			e = openTest(t, opts)
			for i, c := range parts {
				p, _ := e.Partition(txnCrashTopic, i)
				c.check(t, fmt.Sprintf("round %d, partition %d, after a restart", round, i), p)
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
				t.Fatal(err)
			}
			e = openTest(t, opts)
			for i, c := range parts {
				p, _ := e.Partition(txnCrashTopic, i)
				c.rebuilt(p.Offsets().LogStart)
				c.check(t, fmt.Sprintf("round %d, partition %d, after an index rebuild", round, i), p)
			}
		}
		for i, c := range parts {
			p, _ := e.Partition(txnCrashTopic, i)
			for producer := range c.model.open {
				res, err := p.AppendDurable(t.Context(), markerBatch(t, producer, false))
				if err != nil {
					t.Fatal(err)
				}
				c.add(txnAbort, producer, res.BaseOffset, res.LastOffset)
			}
			c.check(t, fmt.Sprintf("round %d, partition %d, all aborted", round, i), p)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

type txnCrashAck struct {
	partition  int32
	kind       byte
	producer   int64
	base, last int64
}

// runTxnCrashWriter runs the writer, kills it at a random moment and
// returns the appends it acknowledged, in order.
func runTxnCrashWriter(t *testing.T, dir string, round int64) []txnCrashAck {
	cmd := exec.Command(os.Args[0], "-test.run=^TestTxnCrashWriterProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), txnCrashDir+"="+dir, fmt.Sprint(txnCrashRound, "=", round))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var acks []txnCrashAck
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var a txnCrashAck
			if sc.Text() == "ready" {
				close(ready)
			} else if n, _ := fmt.Sscanf(sc.Text(), "A %d %c %d %d %d", &a.partition, &a.kind, &a.producer, &a.base, &a.last); n == 5 {
				acks = append(acks, a)
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case <-ready:
	case <-done:
		t.Fatal("the writer ended before it was ready")
	case <-time.After(30 * time.Second):
		t.Fatal("the writer did not start")
	}
	time.Sleep(time.Duration(20+rand.IntN(300)) * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()
	<-done
	if len(acks) == 0 {
		t.Logf("round %d: killed before any acknowledgement", round)
	}
	return acks
}

// takeUnacknowledged takes into account the batch the writer appended
// and was killed before it acknowledged, if the log holds it.
func (c *txnCrashPartition) takeUnacknowledged(t *testing.T, round int64, p *Partition) {
	t.Helper()
	off := p.Offsets()
	if off.LogEnd < c.model.next {
		t.Fatalf("round %d, partition %d: log end %d, but offsets up to %d were acknowledged", round, p.Index(), off.LogEnd, c.model.next)
	}
	if off.LogEnd == c.model.next {
		return
	}
	r, err := p.Read(c.model.next, 1)
	if err != nil || r.Batches != 1 {
		t.Fatalf("round %d, partition %d: read at %d: %d batches, %v", round, p.Index(), c.model.next, r.Batches, err)
	}
	h, err := recordbatch.ReadHeader(r.Records)
	if err != nil || h.BaseOffset != c.model.next {
		t.Fatalf("round %d, partition %d: the batch after the acknowledged ones: %+v, %v", round, p.Index(), h, err)
	}
	kind, producer := txnCrashKind(t, h, r.Records)
	c.add(kind, producer, h.BaseOffset, h.LastOffset())
	if off.LogEnd != c.model.next {
		t.Fatalf("round %d, partition %d: log end %d, past the one batch not acknowledged (up to %d)", round, p.Index(), off.LogEnd, c.model.next)
	}
}

// txnCrashKind says what a batch of the writer is.
func txnCrashKind(t *testing.T, h recordbatch.Header, batch []byte) (byte, int64) {
	t.Helper()
	switch {
	case h.Control():
		m, err := markerOf(batch[:h.Size()])
		if err != nil {
			t.Fatalf("a marker at %d: %v", h.BaseOffset, err)
		}
		if m.commit {
			return txnCommit, h.ProducerID
		}
		return txnAbort, h.ProducerID
	case h.Transactional():
		return txnData, h.ProducerID
	}
	return txnPlain, -1
}

// check checks that the log holds the batches acknowledged, and the
// transactions they make.
func (c *txnCrashPartition) check(t *testing.T, what string, p *Partition) {
	t.Helper()
	off := p.Offsets()
	if off.HighWatermark != c.model.next || off.LogEnd != c.model.next {
		t.Fatalf("%s: offsets %+v, want the end at %d", what, off, c.model.next)
	}
	for offset := off.LogStart; offset < off.HighWatermark; {
		r, err := p.Read(offset, 1<<20)
		if err != nil {
			t.Fatalf("%s: read at %d: %v", what, offset, err)
		}
		batches, err := recordbatch.Split(r.Records)
		if err != nil || len(batches) == 0 {
			t.Fatalf("%s: read at %d: %d batches, %v", what, offset, len(batches), err)
		}
		for _, b := range batches {
			h, err := recordbatch.ReadHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			kind, producer := txnCrashKind(t, h, b)
			if want, ok := c.batches[h.BaseOffset]; !ok || want != (txnCrashBatch{kind, producer, h.LastOffset()}) {
				t.Fatalf("%s: the batch at %d is %c of producer %d; the writer acknowledged %c of producer %d there (known: %v)",
					what, h.BaseOffset, kind, producer, want.kind, want.producer, ok)
			}
			offset = h.LastOffset() + 1
		}
		r.Release()
	}
	checkTxns(t, what, p, c.model)
}
