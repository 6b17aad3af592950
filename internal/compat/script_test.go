package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// scriptDriver drives a client through a script (compat/python/*.py,
// compat/kafkajs/client.js). A run is
//
//	<argv...> <bootstrap> <topic> <command>   with the parameters as JSON on stdin
//
// and prints {"result": ...} or, when the client reported a Kafka error,
// {"error": {"code": n, "name": "...", "message": "..."}}; it exits
// non-zero, with a message on stderr, on anything else (a check of its own
// that failed, an exception).
type scriptDriver struct {
	argv []string
	addr string
}

// compatDir is the repository's compat/ directory.
func compatDir() string {
	dir, err := filepath.Abs("../../compat")
	if err != nil {
		panic(err)
	}
	return dir
}

// run runs one command of the script, decoding its result into result.
func (d *scriptDriver) run(ctx context.Context, topic, command string, params, result any) error {
	in, err := json.Marshal(params)
	if err != nil {
		return err
	}
	args := append(append([]string(nil), d.argv[1:]...), d.addr, topic, command)
	cmd := exec.CommandContext(ctx, d.argv[0], args...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1") // nothing written into compat/python
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", filepath.Base(d.argv[len(d.argv)-1]), command, err, tail(stderr.String(), 2000))
	}
	var out struct {
		Result json.RawMessage `json:"result"`
		Error  *kafkaError     `json:"error"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return fmt.Errorf("%s: report %q: %v (stderr: %s)", command, tail(stdout.String(), 500), err, tail(stderr.String(), 500))
	}
	if out.Error != nil {
		return out.Error
	}
	if result == nil {
		return nil
	}
	return json.Unmarshal(out.Result, result)
}

// tail is the end of a client's output, enough to say what went wrong.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}

func (d *scriptDriver) version(ctx context.Context) (string, error) {
	var v string
	err := d.run(ctx, "-", "version", struct{}{}, &v)
	return v, err
}

func (d *scriptDriver) createTopic(ctx context.Context, topic string, partitions int32, replicas int16, configs map[string]string) error {
	if configs == nil {
		configs = map[string]string{}
	}
	return d.run(ctx, topic, "create", map[string]any{"partitions": partitions, "replicas": replicas, "configs": configs}, nil)
}

func (d *scriptDriver) produce(ctx context.Context, topic, codec string, records []record) ([]position, error) {
	var positions []position
	err := d.run(ctx, topic, "produce", map[string]any{"codec": codec, "records": records}, &positions)
	return positions, err
}

// produceIdempotent is the produce command with "idempotent": true.
func (d *scriptDriver) produceIdempotent(ctx context.Context, topic, codec string, records []record) ([]position, error) {
	var positions []position
	err := d.run(ctx, topic, "produce", map[string]any{"codec": codec, "records": records, "idempotent": true}, &positions)
	return positions, err
}

func (d *scriptDriver) consume(ctx context.Context, topic string, partitions int32, want []record) ([]record, error) {
	var got []record
	err := d.run(ctx, topic, "consume", map[string]any{"partitions": partitions, "want": want}, &got)
	return got, err
}

func (d *scriptDriver) offsetsForTimes(ctx context.Context, topic string, partition int32, timestamps []int64) ([]int64, error) {
	var offsets []int64
	err := d.run(ctx, topic, "offsets_for_times", map[string]any{"partition": partition, "timestamps": timestamps}, &offsets)
	return offsets, err
}

func (d *scriptDriver) consumeFrom(ctx context.Context, topic string, partition int32, offset int64, want []record) ([]record, error) {
	var got []record
	err := d.run(ctx, topic, "consume_from", map[string]any{"partition": partition, "offset": offset, "want": want}, &got)
	return got, err
}

func (d *scriptDriver) metadata(ctx context.Context, topic string) (int32, error) {
	var partitions int32
	err := d.run(ctx, topic, "metadata", struct{}{}, &partitions)
	return partitions, err
}

func (d *scriptDriver) deleteTopic(ctx context.Context, topic string) error {
	return d.run(ctx, topic, "delete", struct{}{}, nil)
}

func (d *scriptDriver) describeConfigs(ctx context.Context, topic string, names []string) (map[string]string, error) {
	var configs map[string]string
	err := d.run(ctx, topic, "describe_configs", map[string]any{"names": names}, &configs)
	return configs, err
}

func (d *scriptDriver) alterConfigs(ctx context.Context, topic string, configs map[string]string) error {
	return d.run(ctx, topic, "alter_configs", map[string]any{"configs": configs}, nil)
}
