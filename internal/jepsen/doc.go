// Package jepsen holds a fault-injection test of Weir in the spirit of
// Jepsen's Kafka workload (the analyses of Redpanda 21.10 in 2022 and of
// Bufstream 0.1 in 2024): real clients against the real broker while the
// broker is killed, every operation recorded, and the history checked for
// the anomalies a Kafka user must never see. The package has no code of its
// own; everything is in its tests.
//
// # The workload
//
// TestJepsen runs the broker (the storage engine under the durable policy
// and the broker, as `weir serve` runs them) in a child process: the test
// binary run again with only TestJepsenBrokerProcess selected. The data
// directory and the listening port survive the child. While the clients
// below run, the child is killed with SIGKILL at random moments (half of
// them aimed at the few milliseconds after a transaction's commit is sent)
// and started again on the same directory and port. Every client is franz-go:
//
//   - transactional producers (one transactional id each): a transaction
//     sends 2-5 records with unique values to 1-3 of the partitions, then
//     commits or aborts at random (one EndTxn in ten with a deadline of a
//     few milliseconds, so that outcomes are unknown with the broker
//     alive too); on any error the producer aborts, and
//     when that fails too it is closed and re-created with the same
//     transactional id (its InitProducerId fences the old one and aborts
//     what it left open), as an application would;
//   - idempotent producers (franz-go's default producer), sending batches of
//     records with unique values to random partitions;
//   - read_committed consumers assigned every partition from offset 0;
//   - read_committed consumers in one consumer group, committing what each
//     poll returned before the next, and recording their assignments.
//
// After the last kill the workload stops, the broker is killed and started
// once more, every transactional id is fenced (a transaction left open is
// aborted), the test waits for the last stable offset of every partition to
// reach its high watermark, writes one sentinel record per partition, and
// reads every partition from the start to its sentinel twice: read_committed
// and read_uncommitted.
//
// # The checks
//
// The checker (checker_test.go) is a pure function of the history and the
// two final reads. A send or a transaction whose answer never came (the
// broker died first) has an unknown outcome: it may have happened or not,
// but a transaction atomically. A transaction whose commit was never asked
// for is aborted. It reports:
//
//   - lost write: an acknowledged record missing from the log or from its
//     acknowledged offset, a record of a committed transaction (or any
//     non-transactional record) in the log but invisible to read_committed;
//   - duplicate: a value at two places in the log;
//   - phantom: a value in the log that no client sent;
//   - inconsistent offset: a record seen by a consumer, or acknowledged, at
//     an offset where the final log holds another value;
//   - aborted read: a read_committed consumer (during the run or at the end)
//     seeing a record of a transaction that was aborted or, in the end, not
//     committed;
//   - torn transaction: a transaction some of whose records in the log are
//     visible to read_committed and others not;
//   - non-monotonic poll: offsets going backwards (or repeating) on a
//     partition within one consumer session, with no seek or rebalance
//     between;
//   - skipped offset: a read_committed consumer moving past a record that is
//     visible in the final read without returning it (from the start of an
//     assignment, a group member resumes no later than the last offset its
//     group committed);
//   - lost commit: a group member resuming a partition before the offset the
//     group had committed, acknowledged, before the assignment.
//
// # Running it
//
//	go test -race ./internal/jepsen/                 # ~30 s, 3 kills
//	CI=true go test -race ./internal/jepsen/         # ~80 s, 5 kills
//	WEIR_JEPSEN_DURATION=10m go test -timeout 30m ./internal/jepsen/   # a soak
//
// WEIR_JEPSEN_KILLS sets the number of kills (by default one per 15 s of a
// soak), WEIR_JEPSEN_SEED the seed of every random choice (logged by every
// run; the timing of the kills against the clients stays random), and
// WEIR_JEPSEN_MUTATE=aborted-as-committed has the model treat aborted
// transactions as committed, to see the checker fail. `go test -short`
// skips the run but not the checker's own tests. With `-artifacts` the
// history (history.jsonl), the final reads (final.json), the findings and
// the broker's logs are kept.
package jepsen
