package compat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
)

// weirBuild is the weir command, built once per test run for the features
// that need a broker they can kill (the consumer-group scenarios): an
// in-process broker cannot be SIGKILLed.
var weirBuild struct {
	once sync.Once
	dir  string // removed by TestMain
	path string
	err  error
}

// weirBinary builds cmd/weir into a temporary directory, once.
func weirBinary() (string, error) {
	weirBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "weir-compat-")
		if err != nil {
			weirBuild.err = err
			return
		}
		weirBuild.dir = dir
		path := filepath.Join(dir, "weir")
		args := []string{"build", "-o", path}
		if raceEnabled() {
			// The packages are compiled so already, and the broker's
			// races show (raceReport).
			args = append(args, "-race")
		}
		// go test puts its own go first in PATH.
		cmd := exec.Command("go", append(args, "github.com/weir-io/weir/cmd/weir")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			weirBuild.err = fmt.Errorf("go build ./cmd/weir: %v: %s", err, tail(string(out), 2000))
			return
		}
		weirBuild.path = path
	})
	return weirBuild.path, weirBuild.err
}

// raceEnabled reports whether the test binary was built with the race
// detector.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// removeWeirBinary removes what weirBinary built.
func removeWeirBinary() {
	if weirBuild.dir != "" {
		os.RemoveAll(weirBuild.dir)
	}
}

// weirProcess is `weir serve` run as a process on a data directory of its
// own: started, stopped with SIGTERM or killed with SIGKILL, and started
// again on the same directory and address.
type weirProcess struct {
	bin, dataDir string
	flags        []string
	// addr is the Kafka listener: a free loopback port chosen by the first
	// start, kept by the next ones.
	addr string
	cmd  *exec.Cmd
	// exited is closed once cmd has been waited for; err is its exit.
	exited chan struct{}
	err    error
	log    *logTail
}

// servingLine is the line weir serve logs once it accepts connections.
var servingLine = regexp.MustCompile(`msg="weir serving" listen=(\S+)`)

// startWeir starts weir serve on a new data directory, with flags added to
// those that keep it to itself (a loopback port, no metrics listener).
func startWeir(ctx context.Context, dataDir string, flags ...string) (*weirProcess, error) {
	bin, err := weirBinary()
	if err != nil {
		return nil, err
	}
	w := &weirProcess{bin: bin, dataDir: dataDir, flags: flags, addr: "127.0.0.1:0", log: &logTail{}}
	return w, w.start(ctx)
}

// start runs the process and returns once it serves.
func (w *weirProcess) start(ctx context.Context) error {
	args := append([]string{"serve", "--data-dir", w.dataDir, "--listen", w.addr, "--metrics-listen", ""}, w.flags...)
	w.cmd = exec.Command(w.bin, args...)
	stderr, err := w.cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := w.cmd.Start(); err != nil {
		return err
	}
	w.exited = make(chan struct{})
	serving := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			w.log.add(lines.Text())
			if m := servingLine.FindStringSubmatch(lines.Text()); m != nil {
				serving <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
		w.err = w.cmd.Wait()
		close(w.exited)
	}()
	select {
	case addr := <-serving:
		w.addr = addr
		return nil
	case <-w.exited:
		return fmt.Errorf("weir serve ended before serving: %v: %s", w.err, w.log.tail())
	case <-ctx.Done():
		w.cmd.Process.Kill()
		<-w.exited
		return fmt.Errorf("weir serve not serving: %w: %s", ctx.Err(), w.log.tail())
	}
}

// stop stops the process gracefully (SIGTERM) and waits for it: it must
// exit with status 0.
func (w *weirProcess) stop(ctx context.Context) error {
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-w.exited:
	case <-ctx.Done():
		w.kill()
		return fmt.Errorf("weir serve still running after SIGTERM: %w", ctx.Err())
	}
	if w.err != nil {
		return fmt.Errorf("weir serve after SIGTERM: %v: %s", w.err, w.log.tail())
	}
	return nil
}

// kill ends the process at once (SIGKILL) and waits for it.
func (w *weirProcess) kill() {
	if w.cmd == nil {
		return
	}
	w.cmd.Process.Kill()
	<-w.exited
	var exit *exec.ExitError
	if errors.As(w.err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL {
		w.err = nil
	}
}

// logTail keeps the last lines a process wrote, to say what it did when
// something fails, and the first data race it reported, if it was built
// with the race detector.
type logTail struct {
	mu    sync.Mutex
	lines []string
	// race is the first race report; racing is set while its lines come.
	race   []string
	racing bool
}

const logTailLines = 40

// raceStart and raceEnd open and close a report of the race detector.
const (
	raceStart = "WARNING: DATA RACE"
	raceEnd   = "=================="
)

func (l *logTail) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	if len(l.lines) > logTailLines {
		l.lines = l.lines[len(l.lines)-logTailLines:]
	}
	switch {
	case line == raceStart && len(l.race) == 0:
		l.racing = true
	case line == raceEnd && l.racing:
		l.racing = false
	}
	if l.racing {
		l.race = append(l.race, line)
	}
}

// raceReport is the first data race the process reported, "" if none.
func (l *logTail) raceReport() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.race, "\n")
}

func (l *logTail) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
