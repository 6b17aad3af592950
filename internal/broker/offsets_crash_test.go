package broker

// The crash test of committed offsets.
//
// TestOffsetsCrash runs a broker in a child process (this test binary run
// again with only TestOffsetsCrashBrokerProcess selected and
// WEIR_OFFSETS_CRASH_DIR naming its data directory), commits offsets to it
// from several goroutines, kills it with SIGKILL at a random moment,
// starts it again on the same directory and checks every group's offsets:
// each is at least the last commit that was acknowledged and at most the
// last one sent (a commit in flight at the kill may or may not have
// landed). Rounds repeat on the same directory, so later rounds replay
// offsets topics of many batches, compacted or not.
//
// The child prints "ready <address>" on standard output once it serves.
// WEIR_OFFSETS_CRASH_ROUNDS sets the rounds (8 by default, 20 when
// CI=true).

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/storage"
)

const offsetsCrashDir = "WEIR_OFFSETS_CRASH_DIR"

// TestOffsetsCrashBrokerProcess is the child: a broker until it is killed.
func TestOffsetsCrashBrokerProcess(t *testing.T) {
	dir := os.Getenv(offsetsCrashDir)
	if dir == "" {
		t.Skip("the child process of TestOffsetsCrash")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := storage.Open(storage.Options{Dir: dir, Logger: logger, CleanerInterval: 20 * time.Millisecond, SegmentSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Listen(Config{Listen: "127.0.0.1:0", Logger: logger}, e)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ready %s\n", b.Addr())
	b.Serve(context.Background()) // until SIGKILL
}

func TestOffsetsCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	rounds := 8
	if os.Getenv("CI") == "true" {
		rounds = 20
	}
	if s := os.Getenv("WEIR_OFFSETS_CRASH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		rounds = n
	}
	dir := t.TempDir()
	const groups, partitions, committers = 12, 3, 4
	type key struct {
		group     string
		partition int32
	}
	acked := map[key]int64{} // the last acknowledged commit
	sent := map[key]int64{}  // the last commit sent
	next := int64(1)
	for round := range rounds {
		child, addr := startOffsetsChild(t, dir)
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequestRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		admin := kadm.NewClient(cl)
		ctx := context.Background()
		if round == 0 {
			if _, err := admin.CreateTopic(ctx, partitions, 1, nil, "t"); err != nil {
				t.Fatal(err)
			}
		}
		topics, err := admin.ListTopics(ctx, "t")
		if err != nil || topics["t"].Err != nil {
			t.Fatalf("round %d: metadata: %v %v", round, err, topics["t"].Err)
		}
		topicID := topics["t"].ID
		// What the last round acknowledged must be there.
		for g := range groups {
			group := fmt.Sprint("g", g)
			got, err := admin.FetchOffsets(ctx, group)
			if err != nil {
				t.Fatalf("round %d: fetch %s: %v", round, group, err)
			}
			for p := int32(0); p < partitions; p++ {
				k := key{group, p}
				o, ok := got.Lookup("t", p)
				at := int64(-1)
				if ok {
					at = o.At
				}
				if _, committed := sent[k]; !committed {
					continue
				}
				if at < acked[k] || at > sent[k] {
					t.Fatalf("round %d: %s/%d has offset %d after the crash; acknowledged %d, sent up to %d", round, group, p, at, acked[k], sent[k])
				}
				acked[k], sent[k] = at, at
			}
		}
		// Commit until the kill.
		var mu sync.Mutex
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for c := range committers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(c)))
				for {
					select {
					case <-stop:
						return
					default:
					}
					k := key{fmt.Sprint("g", rng.IntN(groups)), int32(rng.IntN(partitions))}
					mu.Lock()
					if sent[k] > acked[k] { // one commit in flight per key
						mu.Unlock()
						continue
					}
					offset := next
					next++
					sent[k] = offset
					mu.Unlock()
					req := kmsg.NewPtrOffsetCommitRequest()
					req.Group, req.Generation = k.group, -1
					req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", TopicID: topicID, Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: k.partition, Offset: offset, LeaderEpoch: -1}}}}
					reqCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
					resp, err := req.RequestWith(reqCtx, cl)
					cancel()
					if err != nil {
						return // the broker is gone: this commit stays in flight
					}
					if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
						t.Errorf("commit: %v", kerr.ErrorForCode(code))
						return
					}
					mu.Lock()
					acked[k] = offset
					mu.Unlock()
				}
			})
		}
		time.Sleep(time.Duration(50+rand.IntN(500)) * time.Millisecond)
		child.Process.Kill()
		child.Wait()
		close(stop)
		wg.Wait()
		cl.Close()
		if t.Failed() {
			return
		}
	}
	if next < 100 {
		t.Errorf("only %d commits in %d rounds: the test did not exercise much", next-1, rounds)
	}
}

// startOffsetsChild starts the child broker on dir and returns it with
// its address.
func startOffsetsChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOffsetsCrashBrokerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), offsetsCrashDir+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A failing round must not leave its child serving.
	t.Cleanup(func() { cmd.Process.Kill() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				ready <- addr
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case addr := <-ready:
		return cmd, addr
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the child broker did not start")
		return nil, ""
	}
}
