package storage

// The crash test of idempotent producers' state.
//
// TestProducerCrash starts a writer process (this test binary again, with
// only TestProducerCrashWriterProcess selected and WEIR_PRODUCER_CRASH_DIR
// set), which appends batches of one idempotent producer per round
// (producer id = the round) to every partition, one at a time per
// partition, each with AppendDurable, and prints "A <partition> <seq>
// <base>" once it returned. The parent kills it with SIGKILL at a random
// moment, opens the engine on the same directory and, for every partition,
// appends the last acknowledged batch again: it must be recognised as a
// retry and answered with its original base offset, not written twice.
// Then it appends the next sequence after the last batch the partition
// holds, which must be accepted, and a batch with a gap, which must be
// refused. Rounds repeat on the same directory (WEIR_PRODUCER_CRASH_ROUNDS;
// 6 by default, 15 when CI=true), with the cleaner relocating and
// checkpoints coming and going in the writer.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

const producerCrashDir = "WEIR_PRODUCER_CRASH_DIR"

// producerCrashBatch is the batch of round's producer with sequence seq in
// a partition: 1 to 4 records.
func producerCrashBatch(t testing.TB, partition int32, round int64, seq int32) []byte {
	n := 1 + int((int64(partition)+round+int64(seq))%4)
	return idempotentBatch(t, round, 0, seq, n)
}

// producerCrashNext is the sequence after a batch.
func producerCrashNext(t testing.TB, partition int32, round int64, seq int32) int32 {
	return seq + int32(1+int((int64(partition)+round+int64(seq))%4))
}

func TestProducerCrashWriterProcess(t *testing.T) {
	dir := os.Getenv(producerCrashDir)
	if dir == "" {
		t.Skip("the writer of TestProducerCrash")
	}
	round, _ := strconv.ParseInt(os.Getenv("WEIR_PRODUCER_CRASH_ROUND"), 10, 64)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := crashOptions(dir, logger, nil, 10*time.Millisecond)
	e, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Topic(crashTopic); errors.Is(err, ErrUnknownTopicOrPartition) {
		if _, err := e.CreateTopic(crashTopic, crashPartitions, crashTopicConfig()); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	fmt.Println("ready")
	var wg sync.WaitGroup
	for i := range int32(crashPartitions) {
		p, err := e.Partition(crashTopic, i)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for seq := int32(0); ; seq = producerCrashNext(t, i, round, seq) {
				res, err := p.AppendDurable(t.Context(), producerCrashBatch(t, i, round, seq))
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Printf("A %d %d %d\n", i, seq, res.BaseOffset)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestProducerCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	rounds := 6
	if os.Getenv("CI") == "true" {
		rounds = 15
	}
	if s := os.Getenv("WEIR_PRODUCER_CRASH_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	for round := int64(1); round <= int64(rounds); round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProducerCrashWriterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), producerCrashDir+"="+dir, fmt.Sprint("WEIR_PRODUCER_CRASH_ROUND=", round))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		type ack struct {
			seq  int32
			base int64
		}
		var mu sync.Mutex
		acked := map[int32]ack{}
		ready := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				var part, seq int32
				var base int64
				if sc.Text() == "ready" {
					close(ready)
				} else if n, _ := fmt.Sscanf(sc.Text(), "A %d %d %d", &part, &seq, &base); n == 3 {
					mu.Lock()
					acked[part] = ack{seq, base}
					mu.Unlock()
				}
			}
			io.Copy(io.Discard, out)
		}()
		select {
		case <-ready:
		case <-time.After(30 * time.Second):
			t.Fatal("the writer did not start")
		}
		time.Sleep(time.Duration(20+rand.IntN(300)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		<-done

		e := openTest(t, crashOptions(dir, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, -1))
		for part, a := range acked {
			p, err := e.Partition(crashTopic, part)
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Append(producerCrashBatch(t, part, round, a.seq))
			if err != nil || !res.Duplicate || res.BaseOffset != a.base {
				t.Fatalf("round %d, partition %d: the last acknowledged batch (sequence %d at %d) again: %+v, %v", round, part, a.seq, a.base, res, err)
			}
			// The writer may have appended one more batch, not
			// acknowledged; the partition's producer state knows which.
			next := producerCrashNext(t, part, round, a.seq)
			if res, err := p.Append(producerCrashBatch(t, part, round, next)); err != nil {
				t.Fatalf("round %d, partition %d: the batch after the last acknowledged: %v", round, part, err)
			} else if res.Duplicate {
				next = producerCrashNext(t, part, round, next) // it was written: continue after it
				if _, err := p.Append(producerCrashBatch(t, part, round, next)); err != nil {
					t.Fatalf("round %d, partition %d: the batch after the unacknowledged one: %v", round, part, err)
				}
			}
			if _, err := p.Append(idempotentBatch(t, round, 0, next+100, 1)); !errors.Is(err, ErrOutOfOrderSequence) {
				t.Fatalf("round %d, partition %d: a gap: %v", round, part, err)
			}
		}
		if len(acked) == 0 {
			t.Logf("round %d: killed before any acknowledgement", round)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
