package compat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
)

// scriptGroup runs members of a group as processes of a client script
// (compat/python/*.py, compat/kafkajs/client.js):
//
//	<argv...> <bootstrap> <topic> member
//
// with the parameters as the first line of stdin. The member prints its
// events as JSON lines (memberEvent) on stdout; closing stdin stops it
// cleanly (it gives up its partitions, commits, leaves and exits 0) and
// SIGKILL kills it.
type scriptGroup struct {
	argv     []string
	protocol string
}

// scriptGroups are a script's group clients for the given protocols.
func scriptGroups(argv []string, protocols ...string) map[string]groupClient {
	groups := map[string]groupClient{}
	for _, p := range protocols {
		groups[p] = scriptGroup{argv: argv, protocol: p}
	}
	return groups
}

func (g scriptGroup) start(_ context.Context, spec memberSpec) (groupMember, error) {
	params, err := json.Marshal(map[string]any{
		"group":                 spec.group,
		"name":                  spec.name,
		"protocol":              g.protocol,
		"session_timeout_ms":    groupSessionTimeout.Milliseconds(),
		"heartbeat_interval_ms": groupHeartbeatInterval.Milliseconds(),
		"rebalance_timeout_ms":  groupRebalanceTimeout.Milliseconds(),
	})
	if err != nil {
		return nil, err
	}
	args := append(append([]string(nil), g.argv[1:]...), spec.addr, spec.topic, "member")
	cmd := exec.Command(g.argv[0], args...)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	m := &scriptMember{spec: spec, cmd: cmd, exited: make(chan struct{})}
	cmd.Stderr = &m.stderr
	if m.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go m.read(stdout)
	if _, err := m.stdin.Write(append(params, '\n')); err != nil {
		m.kill()
		return nil, err
	}
	return m, nil
}

// scriptMember is a running member process.
type scriptMember struct {
	spec   memberSpec
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr lockedBuffer
	// ending is set once the suite stops or kills the member: exiting is
	// then expected.
	ending atomic.Bool
	// exited is closed once the process has been waited for; err is its
	// exit.
	exited chan struct{}
	err    error
}

// read reports the events the member prints, then waits for the process.
func (m *scriptMember) read(stdout io.Reader) {
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		var e memberEvent
		if err := json.Unmarshal(lines.Bytes(), &e); err != nil || e.Time == 0 {
			m.spec.log.problem("%s printed %q, not an event", m.spec.name, tail(lines.Text(), 200))
			continue
		}
		m.spec.log.add(m.spec.name, e)
	}
	io.Copy(io.Discard, stdout)
	m.err = m.cmd.Wait()
	close(m.exited)
	if !m.ending.Load() {
		m.spec.log.problem("%s exited by itself: %v: %s", m.spec.name, m.err, tail(m.stderr.String(), 2000))
	}
}

func (m *scriptMember) stop(ctx context.Context) error {
	m.ending.Store(true)
	m.stdin.Close()
	select {
	case <-m.exited:
	case <-ctx.Done():
		m.kill()
		return fmt.Errorf("still running after stdin closed: %w: %s", ctx.Err(), tail(m.stderr.String(), 2000))
	}
	if m.err != nil {
		return fmt.Errorf("%v: %s", m.err, tail(m.stderr.String(), 2000))
	}
	return nil
}

func (m *scriptMember) kill() {
	m.ending.Store(true)
	m.cmd.Process.Kill()
	<-m.exited
}

// lockedBuffer is a bytes.Buffer that a process writes while the test
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
