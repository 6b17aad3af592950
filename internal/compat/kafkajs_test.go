package compat

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestKafkajs runs the suite with kafkajs (npm, pinned by
// compat/kafkajs/package-lock.json) through compat/kafkajs/client.js.
func TestKafkajs(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(compatDir(), "kafkajs")
	node, err := exec.LookPath("node")
	if err != nil {
		err = errors.New("node is not installed (apt-get install nodejs npm)")
	} else if _, serr := os.Stat(filepath.Join(dir, "node_modules", "kafkajs")); serr != nil {
		err = errors.New("compat/kafkajs/node_modules is missing (npm ci --prefix compat/kafkajs)")
	}
	requireTool(t, err)
	const noZstd = "kafkajs has no zstd codec of its own and its plug-in, @kafkajs/zstd 0.1.1, does not build on current Node.js (its native cppzst 2.0.6 fails to compile on Node 20)."
	const viaFetch = "kafkajs's Consumer only runs in a consumer group, and this reads partitions without one: the script reads with the Fetch kafkajs's consumer uses (its internal cluster and broker objects), so this checks kafkajs's fetch, record decoding and codecs; the group rows check its Consumer."
	script := []string{node, filepath.Join(dir, "client.js")}
	runSuite(t, &client{
		name:         "kafkajs",
		groups:       scriptGroups(script, "eager"),
		groupCommits: "consumer.run's auto-commit after each batch; disconnect() leaves the group.",
		groupLacks: map[string]string{
			"cooperative": "kafkajs 2.2 rebalances eagerly only (its one assigner is round robin).",
			"kip848":      "kafkajs 2.2 has no KIP-848 consumer.",
		},
		lacks: map[string]string{
			"produce/zstd":         noZstd,
			"consume/zstd":         noZstd,
			"auto-create/metadata": "kafkajs's one metadata call, admin.fetchTopicMetadata, never allows auto-creation (its producer does, see auto-create/produce).",
		},
		notes: map[string]string{
			"produce/snappy":         "kafkajs-snappy 1.1.0, kafkajs's snappy plug-in.",
			"produce/lz4":            "kafkajs-lz4 1.2.1, kafkajs's lz4 plug-in (a native addon, built by npm ci).",
			"idempotent/none":        "producer({idempotent: true, maxInFlightRequests: 1}), which requires acks -1 and retries.",
			"produce/none":           "kafkajs gives headers as an object: a repeated header name must be adjacent to keep its order (the data set's are).",
			"consume/none":           viaFetch,
			"consume-by-timestamp":   "admin.fetchTopicOffsetsByTimestamp, which gives the high watermark, not -1, for a time after every record. " + viaFetch,
			"txn/commit-abort":       "producer({transactionalId, idempotent: true, maxInFlightRequests: 1}) and producer.transaction(); its read_committed consumer is its Consumer (readUncommitted false, the default), in a group of its own; read_uncommitted goes through the Fetch of the consume rows.",
			"txn/offsets":            "The round's Consumer is a member of the group, from admin.fetchOffsets, with autoCommit off; transaction.sendOffsets names the group only (TxnOffsetCommit v1, no member or generation).",
			"errors/create-existing": "kafkajs's createTopics resolves false, rather than failing, when the topic exists: the script reports that as TOPIC_ALREADY_EXISTS.",
		},
		pastEndIsEnd: true,
	}, func(addr string) driver { return &scriptDriver{argv: script, addr: addr} })
}
