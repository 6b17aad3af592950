package compat

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestConfluentKafka runs the suite with confluent-kafka-python (Debian's
// python3-confluent-kafka, on librdkafka) through
// compat/python/confluent_kafka_client.py.
func TestConfluentKafka(t *testing.T) {
	t.Parallel()
	python, err := pythonWith("confluent_kafka", "python3-confluent-kafka")
	requireTool(t, err)
	script := filepath.Join(compatDir(), "python", "confluent_kafka_client.py")
	runSuite(t, &client{
		name:                    "confluent-kafka",
		skipsUselessCompression: true,
		groups:                  scriptGroups([]string{python, script}, "eager", "cooperative"),
		groupLacks:              map[string]string{"kip848": librdkafkaNoKIP848},
		groupCommits:            "enable.auto.commit (every second) of what poll() returned, and close(), which commits and leaves the group.",
		notes: map[string]string{
			"consume/none":              confluentConsumeNote,
			"idempotent/none":           "enable.idempotence=true (librdkafka's idempotent producer, which sets acks=all and retries); produce/* set it false.",
			"txn/commit-abort":          "transactional.id with init_transactions, begin_transaction, commit_transaction and abort_transaction; its consumer is Consumer.assign() with isolation.level read_committed, and read_uncommitted (librdkafka's default is read_committed).",
			"txn/offsets":               "A subscribed Consumer (a member of the group) reads the input; send_offsets_to_transaction with its consumer_group_metadata() (member id and generation, KIP-447).",
			"txn/fencing":               "librdkafka reports the fenced producer as its own fatal error _FENCED, whose message carries the partition's INVALID_PRODUCER_EPOCH (\"Producer attempted an operation with an old epoch\").",
			"configs/describe":          "confluent-kafka 1.7 describes every config of a resource; the script picks the ones asked for.",
			"configs/alter":             "confluent-kafka 1.7 has AdminClient.alter_configs only (AlterConfigs, which replaces every override of the topic).",
			"errors/fetch-out-of-range": "librdkafka reports a fetch out of range, with auto.offset.reset=error, as its local error _AUTO_OFFSET_RESET carrying the broker's OFFSET_OUT_OF_RANGE; the script reports the latter.",
		},
	}, func(addr string) driver { return &scriptDriver{argv: []string{python, script}, addr: addr} })
}

// librdkafkaNoKIP848 says why librdkafka's KIP-848 consumer is not run.
const librdkafkaNoKIP848 = "librdkafka 2.0 (Debian's) has no KIP-848 consumer: group.protocol=consumer came in librdkafka 2.4 (early access) and is generally available from 2.12."

const confluentConsumeNote = "Consumer.assign() with explicit offsets: group.id is set (librdkafka requires it) but no group is joined and enable.auto.commit is off, so no group API is used."

// TestKafkaPython runs the suite with kafka-python (Debian's
// python3-kafka) through compat/python/kafka_python_client.py.
func TestKafkaPython(t *testing.T) {
	t.Parallel()
	python, err := pythonWith("kafka", "python3-kafka")
	requireTool(t, err)
	for _, codec := range []struct{ module, pkg string }{{"snappy", "python3-snappy"}, {"lz4", "python3-lz4"}, {"zstandard", "python3-zstandard"}} {
		_, err := pythonWith(codec.module, codec.pkg)
		requireTool(t, err)
	}
	script := filepath.Join(compatDir(), "python", "kafka_python_client.py")
	runSuite(t, &client{
		name:         "kafka-python",
		groups:       scriptGroups([]string{python, script}, "eager"),
		groupCommits: "enable_auto_commit (every second), and close(autocommit=True), which commits and leaves the group.",
		groupLacks: map[string]string{
			"cooperative": "kafka-python 2.0 rebalances eagerly only (its sticky assignor too).",
			"kip848":      "kafka-python 2.0 has no KIP-848 consumer.",
		},
		lacks: map[string]string{
			"idempotent/none":              kafkaPythonNoIdempotence,
			"idempotent/gzip":              kafkaPythonNoIdempotence,
			"idempotent/retry":             kafkaPythonNoIdempotence,
			"txn/commit-abort":             kafkaPythonNoTxn,
			"txn/offsets":                  kafkaPythonNoTxn,
			"txn/fencing":                  kafkaPythonNoTxn,
			"errors/produce-invalid-topic": "kafka-python 2.0 logs the broker's INVALID_TOPIC_EXCEPTION from Metadata (\"'...' is not a valid topic name\") but keeps waiting for the topic until max_block_ms, then raises KafkaTimeoutError: it never reports the code.",
		},
		notes: map[string]string{
			"consume/none": "KafkaConsumer with group_id=None and assign().",
		},
	}, func(addr string) driver { return &scriptDriver{argv: []string{python, script}, addr: addr} })
}

const kafkaPythonNoIdempotence = "kafka-python 2.0 (Debian's) has no idempotent producer: enable_idempotence came in kafka-python 2.2."

const kafkaPythonNoTxn = "kafka-python 2.0 (Debian's) has no transactional producer and no read_committed consumer: both came in kafka-python 2.2."

// pythonWith returns a Python interpreter that can import module: the one
// named by WEIR_PYTHON, else Debian's /usr/bin/python3 (where apt installs
// modules, whatever python3 comes first in PATH), else python3 in PATH.
func pythonWith(module, debianPackage string) (string, error) {
	var candidates []string
	if p := os.Getenv("WEIR_PYTHON"); p != "" {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3", "python3")
	for _, c := range candidates {
		path, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import "+module).Run() == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("no python3 can import %s (apt-get install %s)", module, debianPackage)
}
