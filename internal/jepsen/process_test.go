package jepsen

// The broker under test runs in a child process: this test binary run again
// with only TestJepsenBrokerProcess selected, WEIR_JEPSEN_DIR naming its
// data directory and WEIR_JEPSEN_LISTEN its address. It prints
// "ready <address>" once it serves and serves until it is killed (or its
// standard input, a pipe from the test, closes: an orphan does not stay). The
// address is the same for every start, so that clients reconnect to it as
// they would to a restarted broker; it is picked below the kernel's
// ephemeral port range, so that the clients' own outgoing connections
// cannot take it while the broker is down.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weir-io/weir/internal/broker"
	"github.com/weir-io/weir/internal/group"
	"github.com/weir-io/weir/internal/storage"
	"github.com/weir-io/weir/internal/storage/commitlog"
)

const (
	envDir    = "WEIR_JEPSEN_DIR"
	envListen = "WEIR_JEPSEN_LISTEN"
)

// TestJepsenBrokerProcess is the child: a broker until it is killed.
func TestJepsenBrokerProcess(t *testing.T) {
	dir, listen := os.Getenv(envDir), os.Getenv(envListen)
	if dir == "" || listen == "" {
		t.Skip("the child process of TestJepsen")
	}
	// The parent holds our standard input open: when it dies, so do we.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	began := time.Now()
	e, err := storage.Open(storage.Options{
		Dir:        dir,
		Logger:     logger,
		Durability: commitlog.Durability{Mode: commitlog.Durable},
		// Small segments and frequent checkpoints, so that kills land
		// across segment rolls and recovery replays from checkpoints.
		SegmentSize:        1 << 20,
		CheckpointInterval: time.Second,
		CleanerInterval:    200 * time.Millisecond,
	})
	if err != nil {
		fail(err)
	}
	opened := time.Now()
	groups := group.DefaultConfig()
	groups.InitialRebalanceDelay = 100 * time.Millisecond
	groups.MinSessionTimeout = 500 * time.Millisecond
	cfg := broker.Config{Listen: listen, Logger: logger, Groups: &groups}
	// The port may be held for a moment by a connection of the previous
	// broker (or, rarely, by someone else): wait for it.
	var b *broker.Broker
	for deadline := time.Now().Add(20 * time.Second); ; {
		b, err = broker.Listen(cfg, e)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		fail(err)
	}
	logger.Warn("jepsen: broker ready", "open_storage", opened.Sub(began), "listen", time.Since(opened))
	fmt.Printf("ready %s\n", b.Addr())
	b.Serve(context.Background()) // until SIGKILL
}

// fail ends the child with err in its log (which the parent shows).
func fail(err error) {
	fmt.Fprintln(os.Stderr, "jepsen broker:", err)
	os.Exit(1)
}

// brokerProcess is the child broker, started and killed by the test.
type brokerProcess struct {
	t       *testing.T
	dir     string
	addr    string
	logDir  string
	starts  int
	cmd     *exec.Cmd
	stdin   io.WriteCloser // the child exits when it is closed
	exited  chan error     // the child's Wait, once it exits
	logPath string         // the child's standard error
}

func newBrokerProcess(t *testing.T, dir, logDir string) *brokerProcess {
	return &brokerProcess{t: t, dir: dir, addr: freeAddr(t), logDir: logDir}
}

// start starts the broker and returns once it serves.
func (b *brokerProcess) start() {
	t := b.t
	t.Helper()
	if b.cmd != nil {
		t.Fatal("jepsen: start of a running broker")
	}
	b.starts++
	b.logPath = filepath.Join(b.logDir, fmt.Sprintf("broker-%d.log", b.starts))
	logFile, err := os.Create(b.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestJepsenBrokerProcess$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), envDir+"="+b.dir, envListen+"="+b.addr)
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe() // closed by kill, or by our death
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logFile.Close() // the child has its own descriptor
	// A failing test must not leave its child serving.
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
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-ready:
		b.cmd, b.exited, b.stdin = cmd, exited, stdin
	case err := <-exited:
		t.Fatalf("jepsen: the broker exited while starting (%v); its log:\n%s", err, tail(b.logPath, 40))
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("jepsen: the broker did not start within a minute; its log:\n%s", tail(b.logPath, 40))
	}
}

// kill kills the broker with SIGKILL and waits for it to be gone. It
// fails the test if the broker had exited by itself, or reported a data
// race or a panic.
func (b *brokerProcess) kill() {
	t := b.t
	t.Helper()
	select {
	case err := <-b.exited:
		t.Errorf("jepsen: broker %d exited by itself (%v); its log:\n%s", b.starts, err, tail(b.logPath, 40))
	default:
		b.cmd.Process.Kill()
		<-b.exited
	}
	b.stdin.Close()
	b.cmd, b.exited, b.stdin = nil, nil, nil
	b.checkLog()
}

// checkLog fails the test if the last broker's log reports a data race, a
// panic or a fatal error.
func (b *brokerProcess) checkLog() {
	data, err := os.ReadFile(b.logPath)
	if err != nil {
		b.t.Error(err)
		return
	}
	for _, bad := range []string{"WARNING: DATA RACE", "panic:", "fatal error:", "--- FAIL"} {
		if bytes.Contains(data, []byte(bad)) {
			b.t.Errorf("jepsen: broker %d's log reports %q:\n%s", b.starts, bad, tail(b.logPath, 80))
			return
		}
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freeAddr returns a free loopback address whose port is below the
// ephemeral range (so no outgoing connection takes it), or any free port
// where that range is unknown.
func freeAddr(t *testing.T) string {
	low := 0
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if fields := strings.Fields(string(data)); len(fields) == 2 {
			low, _ = strconv.Atoi(fields[0])
		}
	}
	if low > 12000 {
		for range 100 {
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(10000+rand.IntN(low-11000)))
			if ln, err := net.Listen("tcp", addr); err == nil {
				ln.Close()
				return addr
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
