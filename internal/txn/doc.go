// Package txn is the transaction coordinator: producer ids, and the
// transactions of transactional producers, as a deterministic state
// machine that behaves as Apache Kafka 4's TransactionCoordinator,
// TransactionStateManager and ProducerIdManager, including KIP-360
// (producers re-initializing after an error), KIP-588 (PRODUCER_FENCED)
// and KIP-890 (transactions version 2: an epoch bump per transaction, and
// partitions verified or added by their leaders before a transactional
// produce, so that a late or duplicated request cannot land in a later
// transaction).
//
// # The model
//
// A transactional id has one producer id and epoch at a time, and at most
// one transaction. Its states are Kafka's:
//
//	Empty ──AddPartitions──▶ Ongoing ──EndTxn──▶ PrepareCommit ──markers──▶ CompleteCommit
//	  ▲                        │                 PrepareAbort  ──markers──▶ CompleteAbort
//	  │                        └─timeout, new InitProducerId──▶ PrepareAbort (epoch bumped)
//	  └──InitProducerId (epoch bumped)── Empty, CompleteCommit, CompleteAbort
//
// An InitProducerId bumps the epoch, which fences every producer of an
// older epoch: their requests get PRODUCER_FENCED. A transaction being
// completed (Prepare*) waits for its markers: a control batch in each of
// its partitions (and in the __consumer_offsets partition of the groups
// whose offsets it commits); until they are all written, every request of
// the id gets CONCURRENT_TRANSACTIONS (retriable). Transactional ids
// unused for a week are deleted (Dead is never kept: a tombstone is
// written). PrepareEpochFence, Kafka's name for the pending abort of a
// fenced transaction, is never entered: the abort is written directly.
//
// The Coordinator does no I/O, starts no goroutine, reads no clock and
// draws no random numbers: every call that depends on time takes it.
// What must be durable comes back in a Write: records of the compacted
// __transaction_state topic (format in records.go), which take effect
// only when the caller says they were appended (Finish), and the markers
// to write once they are durable. A transactional id with a Write in
// flight is busy (CONCURRENT_TRANSACTIONS), so the records of one id
// reach the log in the order they were decided.
//
// # Driving it
//
// The broker owns the state topic and the data partitions. For every
// Write w the coordinator returns (from InitProducerID, AddPartitionsToTxn,
// AddOffsetsToTxn, EndTxn, AddToTransaction, MarkersWritten, Tick):
//
//  1. Append w.Records to __transaction_state as one batch (skip when
//     empty). Appends happen in the order the Writes were returned (take
//     one lock around the call and the append, as the group coordinator's
//     broker side does), so that the last record of a key is the newest.
//  2. Call Finish(w, code) with the append's error code (0 on success).
//  3. Wait until the records are durable.
//  4. Send w.Response (or use w.Err for AddToTransaction).
//  5. For each m in w.Markers, write a commit or abort control batch of
//     (m.ProducerID, m.ProducerEpoch, m.CoordinatorEpoch) into each of
//     m.Partitions (completing the pending transactional offsets of the
//     producer in the __consumer_offsets partition); once durable, call
//     MarkersWritten(now, m), m being the Markers handed out with its
//     Partitions cut to those written (all, some, or none when the
//     writes failed: report every hand-out once), and handle the Write
//     it returns the same way: it completes the transaction once every
//     partition is reported. What is left is handed out again by
//     PendingMarkers, which a timer calls: never while a writer holds
//     the transaction's markers, for a marker written late could end
//     the producer's next transaction.
//
// Per request:
//
//   - InitProducerId: InitProducerID. Without a transactional id it
//     allocates a producer id; with one, the answer may be
//     CONCURRENT_TRANSACTIONS while an aborted transaction's markers are
//     written: the client retries.
//   - AddPartitionsToTxn (clients, versions 0-3; partition leaders,
//     versions 4-5), AddOffsetsToTxn: AddPartitionsToTxn, AddOffsetsToTxn.
//   - A transactional produce: for produce versions 3-11 (transactions
//     version 1 clients) VerifyProduce (nothing to write); for version 12+
//     AddToTransaction, which adds the partition (a Write) before the batch
//     is appended. TxnOffsetCommit likewise: VerifyTxnOffsetCommit before
//     version 5, AddToTransaction of OffsetsPartition(group) from version 5.
//   - EndTxn: EndTxn; version 5 answers with the epoch (or producer id) of
//     the next transaction.
//   - DescribeTransactions, ListTransactions: read-only, no Write.
//
// A timer calls Tick(now) at NextDeadline and every second or so: it
// aborts timed-out transactions (epoch bumped) and expires unused ids.
//
// At start: New, Replay every record of __transaction_state in log
// order, then Recover(now), and write the markers it returns as in step 5
// (a previous run decided those transactions, but did not complete them).
// Producer ids are allocated in blocks whose end is durable before any id
// of the block is answered; allocation resumes after the highest block,
// so no id is handed out twice across restarts.
//
// Summary gives the counters for metrics.
package txn
