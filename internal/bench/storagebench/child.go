package storagebench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/weir-io/weir/internal/storage"
)

// The crash workloads run the engine in child processes so that one can be
// killed with SIGKILL and another can reopen what it left, with its own
// memory figures. A child gets a childSpec (JSON) and answers on stdout:
//
//	fill:   creates Topics topics of TopicPartitions partitions, appends
//	        Appends copies of a batch of Records records of RecordSize bytes
//	        in round-robin, waits until every one is durable, measures its
//	        memory and prints "ready FillResult". It then waits for stdin to
//	        close (the parent kills it first).
//	reopen: times storage.Open, measures its memory, checks the partitions
//	        hold ExpectBatches batches and ExpectBytes bytes in all, times
//	        Close, and prints "result ReopenResult".

const (
	childFill   = "fill"
	childReopen = "reopen"
)

type childSpec struct {
	Mode            string `json:"mode"`
	Dir             string `json:"dir"`
	SegmentSize     int64  `json:"segment_size,omitempty"`
	Topics          int    `json:"topics,omitempty"`
	TopicPartitions int    `json:"topic_partitions,omitempty"`
	Records         int    `json:"records,omitempty"`
	RecordSize      int    `json:"record_size,omitempty"`
	Writers         int    `json:"writers,omitempty"`
	Inflight        int    `json:"inflight,omitempty"`
	Appends         int64  `json:"appends,omitempty"`
	ExpectBatches   int64  `json:"expect_batches,omitempty"`
	ExpectBytes     int64  `json:"expect_bytes,omitempty"`
	Progress        bool   `json:"progress,omitempty"`
}

// FillResult is what a fill child reports once its appends are durable.
type FillResult struct {
	CreateTime time.Duration `json:"create_topics_ns"`
	Append     AppendRun     `json:"append"`
	BatchBytes int           `json:"batch_bytes"`
	Memory     Memory        `json:"memory"`
	LogBytes   int64         `json:"log_bytes"`
}

// ReopenResult is what a reopen child reports.
type ReopenResult struct {
	OpenTime   time.Duration `json:"open_ns"`
	Opened     OpenLog       `json:"opened"`
	Memory     Memory        `json:"memory"`
	Partitions int64         `json:"partitions"`
	Batches    int64         `json:"batches"`
	Bytes      int64         `json:"bytes"`
	CheckTime  time.Duration `json:"check_ns"`
	CloseTime  time.Duration `json:"close_ns"`
}

// RunChild runs a child process's part: spec is the JSON the parent gave
// it; the answers go to out.
func RunChild(ctx context.Context, spec string, out io.Writer) error {
	var s childSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		return fmt.Errorf("child spec: %w", err)
	}
	switch s.Mode {
	case childFill:
		return runFillChild(ctx, s, out)
	case childReopen:
		return runReopenChild(s, out)
	}
	return fmt.Errorf("child spec: unknown mode %q", s.Mode)
}

func topicName(i int) string { return fmt.Sprintf("bench-%04d", i) }

func runFillChild(ctx context.Context, s childSpec, out io.Writer) error {
	e, _, err := openEngine(engineOptions{dir: s.Dir, segmentSize: s.SegmentSize})
	if err != nil {
		return err
	}
	var res FillResult
	started := time.Now()
	var partitions []*storage.Partition
	for t := range s.Topics {
		ps, err := createTopic(e, topicName(t), s.TopicPartitions, storage.DefaultTopicConfig())
		if err != nil {
			return err
		}
		partitions = append(partitions, ps...)
	}
	res.CreateTime = time.Since(started)
	template, err := buildBatch(s.Records, s.RecordSize, 1)
	if err != nil {
		return err
	}
	res.BatchBytes = len(template)
	var progress io.Writer
	if s.Progress {
		progress = os.Stderr
	}
	res.Append, err = runAppends(ctx, appendParams{
		engine: e, partitions: partitions, template: template,
		writers: s.Writers, inflight: s.Inflight, appends: s.Appends,
		progress: progress, label: "fill",
	})
	if err != nil {
		return err
	}
	if res.Append.Appends != s.Appends {
		return fmt.Errorf("fill: %d appends acknowledged, want %d", res.Append.Appends, s.Appends)
	}
	res.Memory = measureMemory()
	res.LogBytes = e.DiskUsage()
	if err := writeLine(out, "ready", res); err != nil {
		return err
	}
	// Hold the engine open until killed; if the parent goes away first,
	// leave without closing, as a crash would.
	io.Copy(io.Discard, os.Stdin)
	os.Exit(3)
	return nil
}

func runReopenChild(s childSpec, out io.Writer) error {
	e, took, err := openEngine(engineOptions{dir: s.Dir, segmentSize: s.SegmentSize})
	if err != nil {
		return err
	}
	res := ReopenResult{OpenTime: took, Opened: e.opened.get()}
	res.Memory = measureMemory()
	started := time.Now()
	for _, t := range e.Topics() {
		for i := range t.Partitions {
			p, err := e.Partition(t.Name, i)
			if err != nil {
				return err
			}
			off := p.Offsets()
			res.Partitions++
			res.Batches += off.Batches
			res.Bytes += off.Size
		}
	}
	res.CheckTime = time.Since(started)
	started = time.Now()
	if err := e.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	res.CloseTime = time.Since(started)
	if err := writeLine(out, "result", res); err != nil {
		return err
	}
	if res.Batches != s.ExpectBatches || s.ExpectBytes > 0 && res.Bytes != s.ExpectBytes {
		return fmt.Errorf("reopened engine holds %d batches of %d bytes, want %d of %d: acknowledged appends were lost",
			res.Batches, res.Bytes, s.ExpectBatches, s.ExpectBytes)
	}
	return nil
}

// createTopic creates a topic and returns its partitions.
func createTopic(e *engine, name string, partitions int, config storage.TopicConfig) ([]*storage.Partition, error) {
	if _, err := e.CreateTopic(name, int32(partitions), config); err != nil {
		return nil, fmt.Errorf("create topic %s: %w", name, err)
	}
	out := make([]*storage.Partition, partitions)
	for i := range out {
		p, err := e.Partition(name, int32(i))
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

func writeLine(w io.Writer, tag string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s %s\n", tag, b)
	return err
}

// child is a running child process, seen from the parent.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	waited bool
}

func (c Config) startChild(s childSpec) (*child, error) {
	if c.Child == nil {
		return nil, errors.New("this workload needs child processes, and no way to start one was given")
	}
	s.Progress = c.Progress != nil
	spec, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	cmd := c.Child(string(spec))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start child: %w", err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 64<<10), 16<<20)
	return &child{cmd: cmd, stdin: stdin, lines: lines}, nil
}

// await reads the child's output until a line tagged tag, and decodes it
// into v. Other lines are passed to stderr.
func (ch *child) await(tag string, v any) error {
	for ch.lines.Scan() {
		rest, ok := strings.CutPrefix(ch.lines.Text(), tag+" ")
		if !ok {
			fmt.Fprintln(os.Stderr, ch.lines.Text())
			continue
		}
		return json.Unmarshal([]byte(rest), v)
	}
	err := ch.wait()
	return fmt.Errorf("child ended before its %q line: %v", tag, err)
}

// kill kills the child with SIGKILL and reaps it.
// fillAndKill runs a fill child until it reports ready (its report goes to
// into), then kills it with SIGKILL.
func (c Config) fillAndKill(into any, s childSpec) error {
	fill, err := c.startChild(s)
	if err != nil {
		return err
	}
	if err := fill.await("ready", into); err != nil {
		fill.kill()
		return fmt.Errorf("fill: %w", err)
	}
	return fill.kill()
}

func (ch *child) kill() error {
	if err := ch.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill child: %w", err)
	}
	ch.wait()
	return nil
}

func (ch *child) wait() error {
	if ch.waited {
		return nil
	}
	ch.waited = true
	ch.stdin.Close()
	return ch.cmd.Wait()
}

// reopen runs a reopen child over dir and returns what it reports.
func (c Config) reopen(dir string, expectBatches, expectBytes int64) (ReopenResult, error) {
	ch, err := c.startChild(childSpec{Mode: childReopen, Dir: dir, SegmentSize: c.SegmentSize,
		ExpectBatches: expectBatches, ExpectBytes: expectBytes})
	if err != nil {
		return ReopenResult{}, err
	}
	var res ReopenResult
	if err := ch.await("result", &res); err != nil {
		ch.kill()
		return res, err
	}
	if err := ch.wait(); err != nil {
		return res, fmt.Errorf("reopen child: %w", err)
	}
	return res, nil
}
