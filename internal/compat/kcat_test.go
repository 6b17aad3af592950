package compat

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// TestKcat runs the suite with kcat, the command-line client on librdkafka
// (Debian's kcat): one kcat process per record produced, one per
// consumption or offset query.
func TestKcat(t *testing.T) {
	t.Parallel()
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		err = errors.New("kcat is not installed (apt-get install kcat)")
	}
	requireTool(t, err)
	const noAdmin = "kcat has no admin commands."
	runSuite(t, &client{
		name: "kcat",
		lacks: map[string]string{
			"create-topic":                     noAdmin,
			"delete-topic":                     noAdmin,
			"configs/describe":                 noAdmin,
			"configs/alter":                    noAdmin,
			"errors/create-existing":           noAdmin,
			"errors/create-invalid-name":       noAdmin,
			"errors/create-replication-factor": noAdmin,
			"errors/create-invalid-config":     noAdmin,
			"errors/delete-unknown":            noAdmin,
			"txn/offsets":                      "kcat's transactional producer cannot add a consumer group's offsets to its transaction.",
		},
		untested: map[string]string{
			"txn/commit-abort": kcatTxnUntested,
			"txn/fencing":      kcatTxnUntested,
		},
		notes: map[string]string{
			"produce/none": "kcat sends a file as one record (so values are binary-safe) but cannot set a record's timestamp, send an empty or null value (it skips empty files) or pass a NUL byte in a key or header on its command line: " +
				"its records carry librdkafka's clock, and its data set has text keys and headers and no empty values.",
			"idempotent/none":           "-X enable.idempotence=true: one kcat process, so one producer id, per record; the data set of produce/none.",
			"consume/none":              "kcat prints headers as name=value pairs separated by commas: its data set has text header values.",
			"errors/fetch-out-of-range": "kcat reports errors as text: the suite maps librdkafka's \"Broker: ...\" messages to codes.",
		},
		skipsUselessCompression: true,
		noTimestamps:            true,
		producerPerRecord:       true,
		groupUntested: map[string]string{
			"eager":       kcatGroupsUntested,
			"cooperative": kcatGroupsUntested,
		},
		groupLacks:  map[string]string{"kip848": librdkafkaNoKIP848},
		produceData: kcatProducible,
		consumeData: kcatReadable,
	}, func(addr string) driver { return &kcatDriver{kcat: kcat, addr: addr} })
}

const kcatTxnUntested = "kcat -P -X transactional.id=... runs one transaction per process, committed when its input ends or aborted on SIGINT, with one partition (-p) and one set of headers (-H) for all its records: it cannot produce the data set over 2 partitions in one transaction. librdkafka's transactional producer underneath is what the confluent-kafka column tests."

const kcatGroupsUntested = "kcat -G is librdkafka's consumer group, which the confluent-kafka column covers; kcat prints assignments and revocations as text without times, which the suite cannot put in order with other members' events."

// kcatProducible makes a data set expressible on kcat's command line:
// keys without NUL bytes, header values as hex text, no empty or null
// values (replaced with text).
func kcatProducible(records []record) []record {
	out := kcatReadable(records)
	for i := range out {
		if out[i].Key != nil {
			out[i].Key = bytes.ReplaceAll(out[i].Key, []byte{0}, []byte("NUL"))
		}
		if len(out[i].Value) == 0 {
			// Long enough to compress: librdkafka sends a batch that
			// does not shrink uncompressed.
			out[i].Value = []byte(strings.Repeat(fmt.Sprintf("value %d; ", i), 40))
		}
	}
	return out
}

// kcatReadable makes a data set's headers readable in kcat's output: header
// values as hex text.
func kcatReadable(records []record) []record {
	out := make([]record, len(records))
	for i, r := range records {
		hs := make([]header, len(r.Headers))
		for j, h := range r.Headers {
			hs[j] = header{Key: h.Key, Value: []byte(fmt.Sprintf("%x", h.Value))}
		}
		r.Headers = hs
		out[i] = r
	}
	return out
}

// kcatDriver drives kcat.
type kcatDriver struct {
	kcat string
	addr string
}

// kcatFormat prints each record as a line of its fields, then its key and
// value as raw bytes, whose lengths the line gives.
const kcatFormat = `%p %o %T %K %S %h\n%k%s\n`

// librdkafkaErrors maps librdkafka's messages for broker errors, as kcat
// prints them, to Kafka codes.
var librdkafkaErrors = map[string]*kerr.Error{
	"Broker: Message size too large":     kerr.MessageTooLarge,
	"Broker: Offset out of range":        kerr.OffsetOutOfRange,
	"Broker: Unknown topic or partition": kerr.UnknownTopicOrPartition,
	"Broker: Invalid topic":              kerr.InvalidTopicException,
}

// run runs kcat and returns its output; a failure carries the Kafka error
// its message names, if it names one.
func (d *kcatDriver) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, d.kcat, append([]string{"-b", d.addr, "-m", "30"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		for text, e := range librdkafkaErrors {
			if strings.Contains(msg, text) {
				return nil, &kafkaError{Code: e.Code, Name: e.Message, Message: msg}
			}
		}
		return nil, fmt.Errorf("kcat %s: %v: %s", strings.Join(args, " "), err, tail(msg, 2000))
	}
	return stdout.Bytes(), nil
}

func (d *kcatDriver) version(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, d.kcat, "-V").CombinedOutput()
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Version ") {
			// "Version 1.7.1 (JSON, ..., librdkafka 2.0.2 builtin.features=...)"
			v := strings.Fields(line)[1]
			if i := strings.Index(line, "librdkafka "); i >= 0 {
				v += " (librdkafka " + strings.Fields(line[i:])[1] + ")"
			}
			return "kcat " + v, nil
		}
	}
	return "", fmt.Errorf("no version in %q", out)
}

func (d *kcatDriver) createTopic(context.Context, string, int32, int16, map[string]string) error {
	return errNotSupported
}

func (d *kcatDriver) produce(ctx context.Context, topic, codec string, records []record) ([]position, error) {
	return d.produceWith(ctx, topic, codec, records)
}

// produceIdempotent turns librdkafka's idempotent producer on: each kcat
// process gets a producer id of its own.
func (d *kcatDriver) produceIdempotent(ctx context.Context, topic, codec string, records []record) ([]position, error) {
	return d.produceWith(ctx, topic, codec, records, "-X", "enable.idempotence=true")
}

// produceWith runs one kcat per record, with extra arguments: its value is
// the content of a file, so any byte goes through.
func (d *kcatDriver) produceWith(ctx context.Context, topic, codec string, records []record, extra ...string) ([]position, error) {
	dir, err := os.MkdirTemp("", "weir-kcat")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	for i, r := range records {
		file := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(file, r.Value, 0o600); err != nil {
			return nil, err
		}
		args := append([]string{"-P", "-t", topic, "-p", strconv.Itoa(int(r.Partition)), "-z", codec, "-X", "acks=all"}, extra...)
		if r.Key != nil {
			args = append(args, "-k", string(r.Key))
		}
		for _, h := range r.Headers {
			args = append(args, "-H", h.Key+"="+string(h.Value))
		}
		if _, err := d.run(ctx, append(args, file)...); err != nil {
			return nil, err
		}
	}
	return nil, nil // kcat does not say where records landed
}

// read reads count records with kcat and parses them.
func (d *kcatDriver) read(ctx context.Context, count int, args ...string) ([]record, error) {
	args = append([]string{"-C", "-e", "-q", "-c", strconv.Itoa(count), "-X", "auto.offset.reset=error", "-f", kcatFormat}, args...)
	out, err := d.run(ctx, args...)
	if err != nil {
		return nil, err
	}
	return parseKcat(out)
}

// parseKcat parses records printed with kcatFormat.
func parseKcat(out []byte) ([]record, error) {
	var records []record
	r := bufio.NewReader(bytes.NewReader(out))
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF && line == "" {
			return records, nil
		}
		if err != nil {
			return nil, fmt.Errorf("kcat output: %v", err)
		}
		fields := strings.SplitN(strings.TrimSuffix(line, "\n"), " ", 6)
		if len(fields) != 6 {
			return nil, fmt.Errorf("kcat output line %q", line)
		}
		var nums [5]int64
		for i := range nums {
			if nums[i], err = strconv.ParseInt(fields[i], 10, 64); err != nil {
				return nil, fmt.Errorf("kcat output line %q: %v", line, err)
			}
		}
		rec := record{Partition: int32(nums[0]), Offset: nums[1], Timestamp: nums[2], Headers: []header{}}
		if rec.Key, err = readN(r, nums[3]); err != nil {
			return nil, err
		}
		if rec.Value, err = readN(r, nums[4]); err != nil {
			return nil, err
		}
		if nl, err := r.ReadByte(); err != nil || nl != '\n' {
			return nil, fmt.Errorf("kcat output: no newline after record at offset %d", rec.Offset)
		}
		if fields[5] != "" {
			for _, kv := range strings.Split(fields[5], ",") {
				k, v, _ := strings.Cut(kv, "=")
				rec.Headers = append(rec.Headers, header{Key: k, Value: []byte(v)})
			}
		}
		records = append(records, rec)
	}
}

// readN reads n bytes, or returns nil for n = -1 (null).
func readN(r *bufio.Reader, n int64) ([]byte, error) {
	if n < 0 {
		return nil, nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("kcat output: %v", err)
	}
	return b, nil
}

func (d *kcatDriver) consume(ctx context.Context, topic string, _ int32, want []record) ([]record, error) {
	return d.read(ctx, len(want), "-t", topic, "-o", "beginning")
}

// offsetsForTimes runs kcat's query mode once per timestamp (a partition
// may appear once per query).
func (d *kcatDriver) offsetsForTimes(ctx context.Context, topic string, partition int32, timestamps []int64) ([]int64, error) {
	var offsets []int64
	for _, ts := range timestamps {
		out, err := d.run(ctx, "-Q", "-t", fmt.Sprintf("%s:%d:%d", topic, partition, ts))
		if err != nil {
			return nil, err
		}
		// "<topic> [<partition>] offset <offset>"
		f := strings.Fields(string(out))
		if len(f) != 4 || f[2] != "offset" {
			return nil, fmt.Errorf("kcat -Q printed %q", out)
		}
		o, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("kcat -Q printed %q", out)
		}
		offsets = append(offsets, o)
	}
	return offsets, nil
}

func (d *kcatDriver) consumeFrom(ctx context.Context, topic string, partition int32, offset int64, want []record) ([]record, error) {
	return d.read(ctx, len(want), "-t", topic, "-p", strconv.Itoa(int(partition)), "-o", strconv.FormatInt(offset, 10))
}

// metadata lists the topic's metadata (kcat's handle is a producer's, whose
// metadata requests allow auto-creation).
func (d *kcatDriver) metadata(ctx context.Context, topic string) (int32, error) {
	out, err := d.run(ctx, "-L", "-t", topic)
	if err != nil {
		return 0, err
	}
	// '  topic "<name>" with <n> partitions:'
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == "topic" && f[1] == strconv.Quote(topic) && f[2] == "with" {
			n, err := strconv.Atoi(f[3])
			return int32(n), err
		}
	}
	return 0, fmt.Errorf("kcat -L printed no topic %s: %s", topic, out)
}

func (d *kcatDriver) deleteTopic(context.Context, string) error { return errNotSupported }

func (d *kcatDriver) describeConfigs(context.Context, string, []string) (map[string]string, error) {
	return nil, errNotSupported
}

func (d *kcatDriver) alterConfigs(context.Context, string, map[string]string) error {
	return errNotSupported
}

func (d *kcatDriver) produceTransactions(context.Context, string, string, []transaction) error {
	return errNotSupported
}

func (d *kcatDriver) consumeCommitted(context.Context, string, int32, []record) ([]record, error) {
	return nil, errNotSupported
}

func (d *kcatDriver) transact(context.Context, txnRound) ([]record, error) {
	return nil, errNotSupported
}

func (d *kcatDriver) fence(context.Context, string, string, fencing) (fenced, err error) {
	return nil, errNotSupported
}
