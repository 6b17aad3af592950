package storage

// The crash test (issue 2).
//
// TestCrashRecovery starts a writer process, lets it run for a random time,
// kills it with SIGKILL, opens the engine on the same directory and checks
// what it finds; then it does it again, on the same directory, so that later
// rounds recover logs of many segments, with checkpoints, retention,
// relocated batches and torn tails behind them.
//
// The writer is this test binary run again with only TestCrashWriterProcess
// selected and WEIR_CRASH_WRITER=1 in its environment. It opens the engine
// with the durable policy, small segments, frequent checkpoints and a
// background cleaner running every few milliseconds, creates the topic if
// it is absent (a topic with retention.bytes, so that retention, relocation
// and segment removal run all the time), and appends from several
// goroutines. It talks to the parent through a pipe on file descriptor 3,
// one line per event, written only after the event happened:
//
//	ready                                   the engine is open, appends start
//	A <part> <base> <last> <run> <n> <crc>  AppendDurable returned
//	D <part> <offset>                       about to call DeleteRecords(offset)
//	d <part> <offset>                       DeleteRecords(offset) returned
//	O <file> <size>                         a log file was opened at this size
//	C <file>                                a log file was created
//	S <file> <bytes>                        an fsync of the file covered bytes
//	T <file> <size>                         the file was truncated to size
//	E <message>                             the writer failed; it exits
//
// The parent counts an append as acknowledged only once it has read its A
// line, which the writer writes after AppendDurable returned.
//
// The content of every batch follows from (partition, run, n): the parent
// rebuilds each batch it reads, byte for byte, so it checks every batch
// served, acknowledged or not, and knows which append each one was.
//
// A SIGKILL loses nothing that was written: the page cache survives the
// process. So a crash test that only kills would never notice a missing
// fsync. In some rounds the parent therefore also cuts the power, as far
// as the commit log goes: it truncates every segment file to the bytes its
// last fsync covered (the O, C, S and T lines say which). Pebble's files are
// left as the kill left them (whatever Pebble wrote survives, which is one
// of the states a real power cut can leave). In other rounds it appends
// garbage to the last segment file, a torn tail. And in some rounds it does
// not open the engine at all, so that the next writer recovers the crash.
//
// What the parent checks after each round it opens:
//
//  1. Every acknowledged append at or above the log start is there: a read
//     from its offset returns a batch with its base offset, its checksum,
//     and exactly the bytes the writer built.
//  2. Every partition reads whole from its log start to its log end without
//     an error, with dense offsets, every batch intact and built by the
//     writer, none twice: nothing unreadable is served.
//  3. The log start did not move where nothing could move it: never back,
//     never below a DeleteRecords that returned, and beyond what the writer
//     announced to DeleteRecords only by retention, which leaves at least
//     retention.bytes (unless a power cut took the batches retention
//     counted). Acknowledged appends below the log start are exempt.
//  4. Closing and opening again gives the same offsets and bytes.
//  5. Recovery logs no error, and truncates at least the garbage appended.
//
// Knobs, all environment variables: WEIR_CRASH_ITERATIONS (rounds; 200 when
// CI=true, 30 with -short, 100 otherwise), WEIR_CRASH_SEED (the parent's
// choices; the moments of the kills are not reproducible), and
// WEIR_CRASH_POWER_CUTS (one round in N cuts the power, 3 by default; 0
// kills only).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage/commitlog"
	"github.com/weir-io/weir/internal/vfs"
)

const (
	crashEnvWriter     = "WEIR_CRASH_WRITER"
	crashEnvDir        = "WEIR_CRASH_DIR"
	crashEnvRun        = "WEIR_CRASH_RUN"
	crashEnvIterations = "WEIR_CRASH_ITERATIONS"
	crashEnvSeed       = "WEIR_CRASH_SEED"
	crashEnvPowerCuts  = "WEIR_CRASH_POWER_CUTS"

	crashTopic          = "crash"
	crashPartitions     = 8
	crashWriters        = 6
	crashSegmentSize    = 1 << 20
	crashRetentionBytes = 384 << 10
	// crashEpoch is the timestamp of the writer's records (retention.ms is
	// -1: only retention.bytes and DeleteRecords delete).
	crashEpoch = 1_700_000_000_000
)

// crashOptions are the engine options of the writer and of the parent (the
// parent runs no background cleaner: what it checks must stay still).
func crashOptions(dir string, logger *slog.Logger, fs vfs.FS, cleaner time.Duration) Options {
	return Options{
		Dir:                dir,
		FS:                 fs,
		SegmentSize:        crashSegmentSize,
		CheckpointInterval: 50 * time.Millisecond,
		CheckpointBytes:    256 << 10,
		CleanerInterval:    cleaner,
		Logger:             logger,
	}
}

func crashTopicConfig() TopicConfig {
	c := DefaultTopicConfig()
	c.RetentionMs = -1
	c.RetentionBytes = crashRetentionBytes
	return c
}

// crashRecords returns the records of the n-th batch that run wrote to
// partition. The parent calls it to know what a batch must hold.
func crashRecords(partition int32, run, n int64) []rec {
	rng := rand.New(rand.NewPCG(uint64(partition)<<40|uint64(run), uint64(n)))
	count := 1 + rng.IntN(16)
	ts := crashEpoch + run*10_000_000 + n*16
	records := make([]rec, count)
	for i := range records {
		key := fmt.Sprintf("p%d-r%d-n%d-i%d", partition, run, n, i)
		r := rec{key: []byte(key), ts: ts + int64(i)}
		if rng.IntN(20) != 0 { // else a null value
			pad := make([]byte, rng.IntN(600))
			for j := range pad {
				pad[j] = 'a' + byte(rng.IntN(26))
			}
			r.value = append([]byte(key+"="), pad...)
		}
		records[i] = r
	}
	return records
}

// crashBatch returns the batch crashRecords describes, at base offset 0.
func crashBatch(t testing.TB, partition int32, run, n int64) []byte {
	return makeBatch(t, recordbatch.None, crashRecords(partition, run, n)...)
}

// TestCrashWriterProcess is the writer; it runs only as the child of
// TestCrashRecovery, until it is killed.
func TestCrashWriterProcess(t *testing.T) {
	if os.Getenv(crashEnvWriter) != "1" {
		t.Skip("the writer of TestCrashRecovery; runs only as its child process")
	}
	acks := &crashAcks{w: os.NewFile(3, "acks")}
	// A safety net should the parent vanish without killing us.
	time.AfterFunc(2*time.Minute, func() { acks.fail("writer ran for two minutes; exiting") })
	run, err := strconv.ParseInt(os.Getenv(crashEnvRun), 10, 64)
	if err != nil {
		acks.fail("bad %s: %v", crashEnvRun, err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := crashOptions(os.Getenv(crashEnvDir), logger, &crashFS{FS: vfs.Default, acks: acks}, 10*time.Millisecond)
	e, err := Open(opts)
	if err != nil {
		acks.fail("open: %v", err)
	}
	if _, err := e.Topic(crashTopic); errors.Is(err, ErrUnknownTopicOrPartition) {
		if _, err := e.CreateTopic(crashTopic, crashPartitions, crashTopicConfig()); err != nil {
			acks.fail("create topic: %v", err)
		}
	} else if err != nil {
		acks.fail("topic: %v", err)
	}
	partitions := make([]*Partition, crashPartitions)
	for i := range partitions {
		if partitions[i], err = e.Partition(crashTopic, int32(i)); err != nil {
			acks.fail("partition %d: %v", i, err)
		}
	}
	var next [crashPartitions]atomic.Int64
	acks.line("ready")
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(run), uint64(w)))
			ctx := context.Background()
			for {
				index := int32(rng.IntN(crashPartitions))
				p := partitions[index]
				if rng.IntN(500) == 0 {
					crashDeleteRecords(ctx, acks, p)
					continue
				}
				n := next[index].Add(1) - 1
				batch := crashBatch(t, index, run, n)
				r, err := p.AppendDurable(ctx, batch)
				if err != nil {
					acks.fail("append to partition %d: %v", index, err)
				}
				h, err := recordbatch.ReadHeader(batch)
				if err != nil {
					acks.fail("header of an appended batch: %v", err)
				}
				acks.line("A %d %d %d %d %d %d", index, r.BaseOffset, r.LastOffset, run, n, h.CRC)
			}
		})
	}
	wg.Wait()
}

// crashDeleteRecords deletes the oldest third of a partition, announcing
// the offset first so that the parent can bound the log start.
func crashDeleteRecords(ctx context.Context, acks *crashAcks, p *Partition) {
	off := p.Offsets()
	target := off.LogStart + (off.HighWatermark-off.LogStart)/3
	if target <= off.LogStart {
		return
	}
	acks.line("D %d %d", p.Index(), target)
	if _, err := p.DeleteRecords(ctx, target); err != nil {
		acks.fail("delete records of partition %d before %d: %v", p.Index(), target, err)
	}
	acks.line("d %d %d", p.Index(), target)
}

// crashAcks writes the writer's lines to the parent.
type crashAcks struct {
	mu sync.Mutex
	w  io.Writer
}

func (a *crashAcks) line(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := fmt.Fprintf(a.w, format+"\n", args...); err != nil {
		fmt.Fprintf(os.Stderr, "writer: the parent is gone: %v\n", err)
		os.Exit(3)
	}
}

func (a *crashAcks) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(os.Stderr, "writer:", msg)
	a.line("E %s", strings.ReplaceAll(msg, "\n", " "))
	os.Exit(2)
}

// crashFS reports, for every commit log segment file, what its fsyncs
// covered, so that the parent can cut the power: drop what no fsync covered.
type crashFS struct {
	vfs.FS
	acks *crashAcks
}

func isSegmentFile(name string) bool { return strings.HasSuffix(name, ".log") }

func (f *crashFS) Create(name string) (vfs.File, error) {
	file, err := f.FS.Create(name)
	if err != nil || !isSegmentFile(name) {
		return file, err
	}
	f.acks.line("C %s", name)
	return &crashFile{File: file, acks: f.acks}, nil
}

func (f *crashFS) OpenReadWrite(name string) (vfs.File, error) {
	file, err := f.FS.OpenReadWrite(name)
	if err != nil || !isSegmentFile(name) {
		return file, err
	}
	size, err := file.Size()
	if err != nil {
		file.Close()
		return nil, err
	}
	// What a file holds when the writer opens it is what the last round
	// left on the disk, after any power cut: durable.
	f.acks.line("O %s %d", name, size)
	cf := &crashFile{File: file, acks: f.acks}
	cf.written.Store(size)
	return cf, nil
}

type crashFile struct {
	vfs.File
	acks    *crashAcks
	written atomic.Int64 // end of the furthest completed write
}

func (f *crashFile) WriteAt(b []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(b, off)
	f.wrote(off + int64(n))
	return n, err
}

func (f *crashFile) WriteVAt(bufs [][]byte, off int64) (int, error) {
	n, err := f.File.WriteVAt(bufs, off)
	f.wrote(off + int64(n))
	return n, err
}

// wrote records that a write completed up to end.
func (f *crashFile) wrote(end int64) {
	for {
		cur := f.written.Load()
		if end <= cur || f.written.CompareAndSwap(cur, end) {
			return
		}
	}
}

func (f *crashFile) Sync() error {
	// Writes to a segment are sequential: every write that completed
	// before the fsync started is covered by it.
	covered := f.written.Load()
	if err := f.File.Sync(); err != nil {
		return err
	}
	f.acks.line("S %s %d", f.Name(), covered)
	return nil
}

func (f *crashFile) Truncate(size int64) error {
	if err := f.File.Truncate(size); err != nil {
		return err
	}
	f.written.Store(size)
	f.acks.line("T %s %d", f.Name(), size)
	return nil
}

// crashAck is an acknowledged append.
type crashAck struct {
	base, last int64
	run, n     int64
	crc        uint32
	read       bool // a read from its offset found it once already
}

// crashState is what the parent knows, accumulated over the rounds.
type crashState struct {
	acked     [crashPartitions]map[int64]crashAck  // by base offset, at or above the log start
	announced [crashPartitions]int64               // largest offset given to DeleteRecords
	deleted   [crashPartitions]int64               // largest offset DeleteRecords returned for
	lastStart [crashPartitions]int64               // log start the last check found
	intact    [crashPartitions]map[int64]crashSeen // batches checked byte for byte, by base offset
	durable   map[string]int64                     // segment file -> bytes its fsyncs covered
	rng       *rand.Rand
	stats     crashStats
}

type crashStats struct {
	rounds, kills, powerCuts, checks, recoveredByWriter int
	acked, verified, exempt                             int64
	batchesRead, unackedSeen                            int64
	deletes                                             int64
	garbage, truncated, cut, dropped                    int64
	writerTime, checkTime                               time.Duration
}

func newCrashState(seed uint64) *crashState {
	s := &crashState{durable: make(map[string]int64), rng: rand.New(rand.NewPCG(seed, 2))}
	for i := range s.acked {
		s.acked[i] = make(map[int64]crashAck)
		s.intact[i] = make(map[int64]crashSeen)
	}
	return s
}

// crashIterations returns the number of rounds: WEIR_CRASH_ITERATIONS, or
// 200 in CI, 30 with -short, 100 otherwise.
func crashIterations(t *testing.T) int {
	if v := os.Getenv(crashEnvIterations); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive number", crashEnvIterations, v)
		}
		return n
	}
	switch {
	case os.Getenv("CI") == "true":
		return 200
	case testing.Short():
		return 30
	}
	return 100
}

func TestCrashRecovery(t *testing.T) {
	if os.Getenv(crashEnvWriter) == "1" {
		t.Skip("in the writer process")
	}
	iterations := crashIterations(t)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(crashEnvSeed); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", crashEnvSeed, v, err)
		}
	}
	powerCuts := 3 // one round in powerCuts cuts the power; 0: none
	if v := os.Getenv(crashEnvPowerCuts); v != "" {
		var err error
		if powerCuts, err = strconv.Atoi(v); err != nil || powerCuts < 0 {
			t.Fatalf("%s=%q: want 0 (no power cuts) or N (one round in N)", crashEnvPowerCuts, v)
		}
	}
	t.Logf("%d rounds, %s=%d, %s=%d", iterations, crashEnvSeed, seed, crashEnvPowerCuts, powerCuts)
	dir := t.TempDir()
	s := newCrashState(seed)
	started := time.Now()
	for round := range iterations {
		powerCut := powerCuts > 0 && s.rng.IntN(powerCuts) == 0
		garbage := s.rng.IntN(5) == 0
		check := powerCut || round == iterations-1 || s.rng.IntN(4) != 0
		runFor := time.Duration(20+s.rng.IntN(381)) * time.Millisecond

		began := time.Now()
		lines := runCrashWriter(t, dir, int64(round), runFor)
		s.stats.writerTime += time.Since(began)
		s.stats.rounds++
		s.stats.kills++
		if !s.apply(t, lines) {
			t.Fatalf("round %d: the writer's lines do not parse", round)
		}
		if powerCut {
			s.cutPower(t)
		}
		if garbage {
			garbage = s.appendGarbage(t, dir)
		}
		if !check {
			s.stats.recoveredByWriter++
			continue
		}
		began = time.Now()
		s.check(t, dir, round, powerCut, garbage)
		s.stats.checkTime += time.Since(began)
		if t.Failed() {
			t.Fatalf("round %d failed (power cut %v, garbage %v, after %s of writing); %s=%d reproduces the run",
				round, powerCut, garbage, runFor, crashEnvSeed, seed)
		}
	}
	st := s.stats
	t.Logf("%d rounds in %s (writers %s, checks %s): %d kills, %d with a power cut, %d recovered by the next writer, %d checks",
		st.rounds, time.Since(started).Round(time.Millisecond), st.writerTime.Round(time.Millisecond),
		st.checkTime.Round(time.Millisecond), st.kills, st.powerCuts, st.recoveredByWriter, st.checks)
	t.Logf("%d appends acknowledged, %d checked present and intact, %d below the log start when checked; "+
		"%d batches read, of them %d never acknowledged; %d DeleteRecords",
		st.acked, st.verified, st.exempt, st.batchesRead, st.unackedSeen, st.deletes)
	t.Logf("power cuts dropped %d unsynced bytes; %d garbage bytes appended, %d torn bytes truncated by checks, %d index entries dropped",
		st.cut, st.garbage, st.truncated, st.dropped)
	segments, _ := filepath.Glob(filepath.Join(dir, "log", "*.log"))
	t.Logf("the log ends with %d segments", len(segments))
}

// runCrashWriter runs one writer for runFor after it is ready, kills it,
// and returns the lines it wrote.
func runCrashWriter(t *testing.T, dir string, run int64, runFor time.Duration) []string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriterProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvWriter+"=1", crashEnvDir+"="+dir, crashEnvRun+"="+strconv.FormatInt(run, 10))
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("start the writer: %v", err)
	}
	w.Close()

	ready := make(chan struct{})
	var lines []string
	read := make(chan struct{})
	go func() {
		defer close(read)
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return // a line without its newline was not written whole
			}
			line = strings.TrimSuffix(line, "\n")
			if line == "ready" {
				close(ready)
				continue
			}
			lines = append(lines, line)
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	fail := func(format string, args ...any) {
		syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		<-read
		t.Fatalf("writer of round %d: %s\nits last lines: %q\nits output:\n%s", run, fmt.Sprintf(format, args...), tail(lines, 5), stderr.String())
	}
	select {
	case <-ready:
	case err := <-exited:
		exited <- err
		fail("exited before it was ready: %v", err)
	case <-time.After(time.Minute):
		fail("not ready after a minute")
	}
	select {
	case <-time.After(runFor): // the moment of the crash
	case err := <-exited:
		exited <- err
		fail("exited by itself: %v", err)
	}
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the writer: %v", err)
	}
	<-exited
	<-read
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("writer of round %d ended with %v, not by SIGKILL\nits output:\n%s", run, cmd.ProcessState, stderr.String())
	}
	return lines
}

func tail(lines []string, n int) []string {
	return lines[max(0, len(lines)-n):]
}

// apply takes in the lines of one round.
func (s *crashState) apply(t *testing.T, lines []string) bool {
	t.Helper()
	ok := true
	bad := func(line string, err error) {
		t.Errorf("writer line %q: %v", line, err)
		ok = false
	}
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 {
			bad(line, errors.New("empty"))
			continue
		}
		ints := func(from int) []int64 {
			var out []int64
			for _, x := range f[from:] {
				v, err := strconv.ParseInt(x, 10, 64)
				if err != nil {
					bad(line, err)
					return nil
				}
				out = append(out, v)
			}
			return out
		}
		switch f[0] {
		case "A":
			v := ints(1)
			if len(v) != 6 || v[0] < 0 || v[0] >= crashPartitions {
				bad(line, errors.New("want A part base last run n crc"))
				continue
			}
			if prev, dup := s.acked[v[0]][v[1]]; dup {
				t.Errorf("partition %d: offset %d acknowledged twice: %+v and %q", v[0], v[1], prev, line)
			}
			s.acked[v[0]][v[1]] = crashAck{base: v[1], last: v[2], run: v[3], n: v[4], crc: uint32(v[5])}
			s.stats.acked++
		case "D":
			if v := ints(1); len(v) == 2 {
				s.announced[v[0]] = max(s.announced[v[0]], v[1])
			}
		case "d":
			if v := ints(1); len(v) == 2 {
				s.deleted[v[0]] = max(s.deleted[v[0]], v[1])
				s.stats.deletes++
			}
		case "O", "S", "T":
			if len(f) != 3 {
				bad(line, errors.New("want a file and a size"))
				continue
			}
			v := ints(2)
			if len(v) != 1 {
				continue
			}
			switch f[0] {
			case "O":
				s.durable[f[1]] = v[0]
			case "S":
				s.durable[f[1]] = max(s.durable[f[1]], v[0])
			case "T":
				s.durable[f[1]] = min(s.durable[f[1]], v[0])
			}
		case "C":
			s.durable[f[1]] = 0
		case "E":
			t.Errorf("the writer failed: %s", line)
			ok = false
		default:
			bad(line, errors.New("unknown line"))
		}
	}
	return ok
}

// cutPower truncates every segment file to what its fsyncs covered.
func (s *crashState) cutPower(t *testing.T) {
	t.Helper()
	s.stats.powerCuts++
	for name, durable := range s.durable {
		info, err := os.Stat(name)
		if errors.Is(err, os.ErrNotExist) {
			delete(s.durable, name) // removed by the cleaner
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() > durable {
			if err := os.Truncate(name, durable); err != nil {
				t.Fatal(err)
			}
			s.stats.cut += info.Size() - durable
		}
	}
}

// appendGarbage appends random bytes to the last segment file: a torn
// tail.
func (s *crashState) appendGarbage(t *testing.T, dir string) bool {
	t.Helper()
	segments, err := filepath.Glob(filepath.Join(dir, "log", "*.log"))
	if err != nil || len(segments) == 0 {
		t.Fatalf("no segment to tear: %v", err)
	}
	sort.Strings(segments)
	last := segments[len(segments)-1]
	if info, err := os.Stat(last); err != nil || info.Size() < commitlog.SegmentHeaderSize {
		// The writer died creating the segment, before its header was
		// written: a torn tail lies after a header, never in its place.
		return false
	}
	garbage := make([]byte, 1+s.rng.IntN(4096))
	for i := range garbage {
		garbage[i] = byte(s.rng.Uint32())
	}
	f, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(garbage); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	s.stats.garbage += int64(len(garbage))
	return true
}

// crashLogs collects what recovery logs.
type crashLogs struct {
	mu        sync.Mutex
	truncated int64
	dropped   int64
	errors    []string
	warnings  []string
}

func (c *crashLogs) Enabled(context.Context, slog.Level) bool { return true }
func (c *crashLogs) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *crashLogs) WithGroup(string) slog.Handler            { return c }

func (c *crashLogs) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var attrs []string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "torn_bytes_truncated":
			c.truncated += attrInt(a.Value)
		case "index_entries_dropped":
			c.dropped += attrInt(a.Value)
		}
		attrs = append(attrs, a.String())
		return true
	})
	msg := r.Message + " " + strings.Join(attrs, " ")
	switch {
	case r.Level >= slog.LevelError:
		c.errors = append(c.errors, msg)
	case r.Level >= slog.LevelWarn:
		c.warnings = append(c.warnings, msg)
	}
	return nil
}

func attrInt(v slog.Value) int64 {
	switch v.Kind() {
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return int64(v.Uint64())
	}
	return 0
}

// check opens the engine after a round and checks it; see the top of the
// file.
func (s *crashState) check(t *testing.T, dir string, round int, powerCut, garbage bool) {
	t.Helper()
	s.stats.checks++
	logs := &crashLogs{}
	opts := crashOptions(dir, slog.New(logs), nil, -1)
	e, err := Open(opts)
	if err != nil {
		t.Fatalf("round %d: open after the crash: %v", round, err)
	}
	if garbage && logs.truncated == 0 {
		t.Errorf("round %d: garbage appended to the last segment, but recovery truncated nothing", round)
	}
	s.stats.truncated += logs.truncated
	s.stats.dropped += logs.dropped
	partitions := s.partitions(t, e)
	if partitions == nil {
		for i, acked := range s.acked {
			if len(acked) > 0 {
				t.Errorf("round %d: topic absent, but partition %d has %d acknowledged appends", round, i, len(acked))
			}
		}
		e.Close()
		return
	}
	before := make([]Offsets, len(partitions))
	digests := make([]uint32, len(partitions))
	for i, p := range partitions {
		before[i] = p.Offsets()
		digests[i] = s.checkPartition(t, p, round, powerCut)
	}
	if err := e.Close(); err != nil {
		t.Errorf("round %d: close: %v", round, err)
	}

	e, err = Open(opts)
	if err != nil {
		t.Fatalf("round %d: open again: %v", round, err)
	}
	defer e.Close()
	if again := s.partitions(t, e); again != nil {
		for i, p := range again {
			if off := p.Offsets(); off != before[i] {
				t.Errorf("round %d: partition %d: offsets %+v after reopening, %+v before", round, i, off, before[i])
			}
			if digest := partitionDigest(t, p); digest != digests[i] {
				t.Errorf("round %d: partition %d: the bytes read after reopening differ from those before", round, i)
			}
		}
	} else {
		t.Errorf("round %d: the topic vanished on reopening", round)
	}
	logs.mu.Lock()
	for _, msg := range logs.errors {
		t.Errorf("round %d: recovery logged an error: %s", round, msg)
	}
	if t.Failed() {
		for _, msg := range logs.warnings {
			t.Logf("round %d: recovery warned: %s", round, msg)
		}
	}
	logs.mu.Unlock()
}

// partitions returns the topic's partitions, or nil if it does not exist.
func (s *crashState) partitions(t *testing.T, e *Engine) []*Partition {
	t.Helper()
	if _, err := e.Topic(crashTopic); errors.Is(err, ErrUnknownTopicOrPartition) {
		return nil
	} else if err != nil {
		t.Fatalf("topic: %v", err)
	}
	out := make([]*Partition, crashPartitions)
	for i := range out {
		p, err := e.Partition(crashTopic, int32(i))
		if err != nil {
			t.Fatalf("partition %d: %v", i, err)
		}
		out[i] = p
	}
	return out
}

// crashSeen is a batch read back.
type crashSeen struct {
	last   int64
	run, n int64
	crc    uint32 // the batch's own
	sum    uint32 // of all its bytes
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// partitionDigest reads a partition whole and returns a checksum of the
// bytes served.
func partitionDigest(t *testing.T, p *Partition) uint32 {
	t.Helper()
	off := p.Offsets()
	var digest uint32
	for next := off.LogStart; next < off.LogEnd; {
		r, err := p.Read(next, 1<<20)
		if err != nil {
			t.Fatalf("partition %d: read at %d: %v", p.Index(), next, err)
		}
		batches, err := recordbatch.Split(r.Records)
		if err != nil || len(batches) == 0 {
			t.Fatalf("partition %d: read at %d: %d bytes, no batches: %v", p.Index(), next, len(r.Records), err)
		}
		digest = crc32.Update(digest, castagnoli, r.Records)
		h, _ := recordbatch.ReadHeader(batches[len(batches)-1])
		next = h.LastOffset() + 1
	}
	return digest
}

// checkPartition checks one partition: its whole content, its acknowledged
// appends, its log start. It returns the digest of the bytes it read.
func (s *crashState) checkPartition(t *testing.T, p *Partition, round int, powerCut bool) uint32 {
	t.Helper()
	index := p.Index()
	off := p.Offsets()
	prefix := fmt.Sprintf("round %d: partition %d (log start %d, end %d)", round, index, off.LogStart, off.LogEnd)

	// 3. The log start.
	switch {
	case off.LogStart < s.lastStart[index]:
		t.Errorf("%s: the log start went back from %d", prefix, s.lastStart[index])
	case off.LogStart < s.deleted[index]:
		t.Errorf("%s: DeleteRecords(%d) returned, yet the log start is below it", prefix, s.deleted[index])
	case off.LogStart > max(s.announced[index], s.lastStart[index]) && off.Size < crashRetentionBytes && !powerCut:
		// (A power cut may take the batches that retention counted.)
		t.Errorf("%s: the log start is beyond every DeleteRecords (%d) and the last check's (%d), "+
			"so retention moved it, yet only %d bytes remain, below retention.bytes %d",
			prefix, s.announced[index], s.lastStart[index], off.Size, crashRetentionBytes)
	}
	s.lastStart[index] = off.LogStart

	// 2. The whole partition, batch by batch.
	seen := make(map[int64]crashSeen)
	written := make(map[[2]int64]int64) // (run, n) -> base offset
	next := off.LogStart
	var digest uint32
	for next < off.LogEnd {
		r, err := p.Read(next, 1<<20)
		if err != nil {
			t.Errorf("%s: read at %d: %v", prefix, next, err)
			return digest
		}
		batches, err := recordbatch.Split(r.Records)
		if err != nil || len(batches) == 0 {
			t.Errorf("%s: read at %d returned %d bytes that do not split into batches: %v", prefix, next, len(r.Records), err)
			return digest
		}
		digest = crc32.Update(digest, castagnoli, r.Records)
		for _, b := range batches {
			h, run, n, err := s.checkBatch(t, index, b)
			if err != nil {
				t.Errorf("%s: batch read at %d: %v", prefix, next, err)
				return digest
			}
			if h.BaseOffset > next || h.LastOffset() < next {
				t.Errorf("%s: offsets not dense: expected offset %d, got a batch of %d..%d", prefix, next, h.BaseOffset, h.LastOffset())
			}
			if at, dup := written[[2]int64{run, n}]; dup {
				t.Errorf("%s: append %d of round %d is served twice, at %d and %d", prefix, n, run, at, h.BaseOffset)
			}
			written[[2]int64{run, n}] = h.BaseOffset
			seen[h.BaseOffset] = crashSeen{last: h.LastOffset(), run: run, n: n, crc: h.CRC, sum: crc32.Checksum(b, castagnoli)}
			s.stats.batchesRead++
			next = h.LastOffset() + 1
		}
	}
	if next != off.LogEnd {
		t.Errorf("%s: the batches end at %d", prefix, next)
	}
	s.intact[index] = seen

	// 1. The acknowledged appends.
	for base, ack := range s.acked[index] {
		if ack.last < off.LogStart {
			delete(s.acked[index], base) // deleted by DeleteRecords or retention, bounded above
			s.stats.exempt++
			continue
		}
		if ack.read {
			// Found by a read from its offset before: enough now that the
			// scan found it.
			b, ok := seen[base]
			if !ok || b.last != ack.last || b.run != ack.run || b.n != ack.n || b.crc != ack.crc {
				t.Errorf("%s: acknowledged append %+v is no longer there (found %+v)", prefix, ack, b)
			} else {
				s.stats.verified++
			}
			continue
		}
		r, err := p.Read(max(base, off.LogStart), 1)
		if err != nil {
			t.Errorf("%s: acknowledged append %+v: read: %v", prefix, ack, err)
			continue
		}
		batches, err := recordbatch.Split(r.Records)
		if err != nil || len(batches) == 0 {
			t.Errorf("%s: acknowledged append %+v: read %d bytes, no batch: %v", prefix, ack, len(r.Records), err)
			continue
		}
		h, run, n, err := s.checkBatch(t, index, batches[0])
		switch {
		case err != nil:
			t.Errorf("%s: acknowledged append %+v: %v", prefix, ack, err)
		case h.BaseOffset != ack.base || h.LastOffset() != ack.last || run != ack.run || n != ack.n || h.CRC != ack.crc:
			t.Errorf("%s: acknowledged append %+v (offsets %d..%d): found append %d of round %d at %d..%d, crc %d",
				prefix, ack, ack.base, ack.last, n, run, h.BaseOffset, h.LastOffset(), h.CRC)
		default:
			s.stats.verified++
			ack.read = true
			s.acked[index][base] = ack
		}
	}
	for base := range seen {
		if _, ok := s.acked[index][base]; !ok {
			s.stats.unackedSeen++
		}
	}
	return digest
}

// checkBatch checks that b is, byte for byte, a batch the writer built,
// and says which.
func (s *crashState) checkBatch(t *testing.T, partition int32, b []byte) (recordbatch.Header, int64, int64, error) {
	if h, err := recordbatch.ReadHeader(b); err == nil {
		if known, ok := s.intact[partition][h.BaseOffset]; ok && known.sum == crc32.Checksum(b, castagnoli) {
			return h, known.run, known.n, nil // the same bytes as the last check's
		}
	}
	h, records, err := recordbatch.Records(b, 1<<30)
	if err != nil {
		return h, 0, 0, fmt.Errorf("damaged batch served: %w", err)
	}
	if len(records) == 0 {
		return h, 0, 0, errors.New("a batch without records")
	}
	var part int32
	var run, n, i int64
	if _, err := fmt.Sscanf(string(records[0].Key), "p%d-r%d-n%d-i%d", &part, &run, &n, &i); err != nil || part != partition || i != 0 {
		return h, 0, 0, fmt.Errorf("batch at %d: first key %q is not one the writer wrote to partition %d", h.BaseOffset, records[0].Key, partition)
	}
	want := crashBatch(t, partition, run, n)
	recordbatch.SetBaseOffset(want, h.BaseOffset)
	recordbatch.SetPartitionLeaderEpoch(want, 0) // as Append stamps it
	if !bytes.Equal(b, want) {
		return h, run, n, fmt.Errorf("batch at %d (append %d of round %d) differs from what the writer built", h.BaseOffset, n, run)
	}
	return h, run, n, nil
}
