// Package compat is Weir's client compatibility suite: it runs real Kafka
// clients against a real broker and checks every byte that goes through.
//
// The package holds tests only. Each client is a driver behind one
// interface (driver_test.go); one suite (suite_test.go) runs the same
// features against every driver, as subtests named after the features, so
// that docs/compatibility.md maps one to one onto test names:
//
//	create-topic               the client's admin API creates a topic with partitions and configs
//	produce/<codec>            keyed records with headers and timestamps, read back with franz-go
//	idempotent/<codec>         the same with the client's idempotent producer: each record
//	                           stored once, in a batch with a producer id (none and gzip)
//	idempotent/retry           franz-go only: the response to a produce request is lost
//	                           (response_loss_test.go) and the retried batches must not be
//	                           stored twice
//	txn/commit-abort           the client's transactional producer aborts a transaction and
//	                           commits another over 2 partitions: franz-go reads both and
//	                           their markers with read_uncommitted, the committed one only
//	                           with read_committed, as must the client's own consumer
//	                           (which reads both with read_uncommitted)
//	txn/offsets                consume-transform-produce with the client's way of adding a
//	                           group's offsets to a transaction: the committed offsets, read
//	                           with kadm, move when a round commits, not when it aborts
//	txn/fencing                a second producer of a transactional id fences the first,
//	                           whose next operation fails with the client's fenced error
//	consume/<codec>            records produced with franz-go, read from the earliest offset
//	consume-by-timestamp       offsets looked up by time (ListOffsets), then consumed from there
//	auto-create/produce        producing to a topic that does not exist creates it
//	auto-create/metadata       asking for a topic's metadata creates it
//	delete-topic               the client's admin API deletes a topic
//	configs/describe           DescribeConfigs of a topic
//	configs/alter              the client's way of changing a topic's config
//	errors/<case>              a bad request and the Kafka error the client reports
//	group/<protocol>/<step>    the client's consumer group (eager, cooperative or
//	                           KIP-848): members joining and leaving, a member
//	                           killed, committed offsets across broker restarts
//
// The Go clients (franz-go, sarama, segmentio/kafka-go) run in the test
// process. kcat, the Python clients (confluent-kafka and kafka-python, from
// Debian) and kafkajs run as subprocesses: the scripts in compat/python and
// compat/kafkajs take the bootstrap address, a topic and a command as
// arguments, read the command's parameters as JSON on stdin, check what
// they can themselves, and print a JSON report on stdout (or exit non-zero
// with a message on stderr). The Go side never trusts a report alone: what
// a client produced is read back with franz-go, and what a client consumed
// was produced with franz-go and is compared byte for byte.
//
// The group rows come from one scenario per client and protocol
// (group_test.go), against a broker of its own that is a weir serve
// process (serve_test.go), since the scenario kills it: three members of
// one group, run by the client under test, report their assignments,
// revocations and records (script members as JSON lines, the Go clients'
// from their callbacks) to a log (group_log_test.go) that puts them in
// order and checks that no partition had two live owners and that every
// record was consumed; one member is killed (a Go client by cutting its
// connections, killswitch_test.go), one leaves, and the committed offsets
// must survive restarts of the broker, graceful and not.
//
// A client whose runtime is missing (kcat, a Python module, node or
// compat/kafkajs/node_modules) is skipped, except under CI (CI=true), where
// it fails the test: .ci/run installs them all.
//
// Running the whole suite with -doc rewrites docs/compatibility.md from the
// outcomes:
//
//	go test -count=1 -timeout 15m ./internal/compat/ -args -doc
package compat
