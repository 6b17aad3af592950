package compat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// The transaction rows. Each runs the client's transactional producer
// (Kafka's transactions version 1: InitProducerId with a transactional id,
// AddPartitionsToTxn, EndTxn, and for txn/offsets AddOffsetsToTxn and
// TxnOffsetCommit) and checks, with franz-go, what the broker stored and
// what each isolation level reads:
//
//	txn/commit-abort  one transaction of the data set over 2 partitions is
//	                  aborted, a second one committed: read_uncommitted
//	                  reads both and their markers, read_committed (franz-go
//	                  and the client's own consumer) the committed one only
//	txn/offsets       consume-transform-produce in three rounds (commit,
//	                  abort, commit again): the group's committed offsets,
//	                  read with kadm, move only when a round commits
//	txn/fencing       a second producer of the transactional id fences the
//	                  first, whose next operation fails with the client's
//	                  fenced error
//
// The aborted transaction comes first, so that a read_committed consumer
// that let aborted records through would read them before the committed
// ones.

// transaction is one transaction of a client's transactional producer:
// the records, each produced to the partition it names, then a commit or
// an abort. Its JSON form is what the scripts read.
type transaction struct {
	Records []record `json:"records"`
	Commit  bool     `json:"commit"`
}

// txnRound is one round of consume-transform-produce: the client consumes
// Input (the script's topic argument) as a member of Group, from the
// group's committed offsets (the earliest where it has none) up to Ends,
// produces a copy of each record (key, value, headers, timestamp) to the
// same partition of Output in a transaction of transactional id ID, adds
// the offsets Ends to the transaction in its way, and commits or aborts.
type txnRound struct {
	ID     string `json:"id"`
	Group  string `json:"group"`
	Input  string `json:"-"`
	Output string `json:"output"`
	// Ends are the end offsets of Input's partitions, by partition.
	Ends   []int64 `json:"ends"`
	Commit bool    `json:"commit"`
}

// fencing is what the two producers of txn/fencing produce, each in
// partition 0: the first producer First, in a transaction left open; then
// the second producer initialises, and the first produces Late and
// commits, which must fail; then the second produces Second in a
// transaction it commits.
type fencing struct {
	First  record `json:"first"`
	Late   record `json:"late"`
	Second record `json:"second"`
}

// fencedCodes are the Kafka errors with which a fenced producer may fail:
// PRODUCER_FENCED (from the transaction coordinator, KIP-588) and
// INVALID_PRODUCER_EPOCH (from a partition, or from an older coordinator).
var fencedCodes = []*kerr.Error{kerr.ProducerFenced, kerr.InvalidProducerEpoch}

// txnFeatures are the transaction rows, in the order of the table.
func txnFeatures() []feature {
	return []feature{
		{name: "txn/commit-abort", run: txnCommitAbortFeature},
		{name: "txn/offsets", run: txnOffsetsFeature},
		{name: "txn/fencing", run: txnFencingFeature},
	}
}

// txnID is the transactional id a feature's producers use.
func txnID(topic string) string { return "compat-" + topic }

// txnCommitAbortFeature has the client's transactional producer abort a
// transaction of one data set and commit one of another, over 2
// partitions. franz-go then reads with read_uncommitted, control records
// included: each partition holds its aborted records, an abort marker,
// its committed records and a commit marker, every record in a
// transactional batch of the producer id the coordinator has for the
// transactional id; franz-go with read_committed reads exactly the
// committed records. So must the client's own consumer with
// read_committed, where with read_uncommitted it reads them all.
func txnCommitAbortFeature(ctx context.Context, e *env, c *client, d driver, topic string) error {
	if err := e.createTopic(ctx, topic, 2, nil); err != nil {
		return err
	}
	aborted := c.produced(dataSet("txn-aborted", 2, base()))
	// After each partition's 6 aborted records and its abort marker.
	committed := shiftOffsets(c.produced(dataSet("txn-committed", 2, base().Add(time.Minute))), 7)
	id := txnID(topic)
	err := d.produceTransactions(ctx, topic, id, []transaction{{Records: aborted}, {Records: committed, Commit: true}})
	if err != nil {
		return fmt.Errorf("produce transactions: %w", err)
	}
	pid, epoch, err := e.txnProducer(ctx, id)
	if err != nil {
		return err
	}
	var want []logEntry
	for p := range int32(2) {
		want = append(want, dataEntries(partitionOf(aborted, p), pid)...)
		want = append(want, markerEntry(p, 6, "abort", pid))
		want = append(want, dataEntries(partitionOf(committed, p), pid)...)
		want = append(want, markerEntry(p, 13, "commit", pid))
	}
	got, err := e.readLog(ctx, topic, false)
	if err != nil {
		return err
	}
	if d := diffLog(got, want); d != "" {
		return fmt.Errorf("read_uncommitted, franz-go read: %s", d)
	}
	if err := checkEpochs(got, epoch); err != nil {
		return err
	}
	// The committed records follow each partition's abort marker.
	wantCommitted := recordsOf(slices.DeleteFunc(slices.Clone(want), func(x logEntry) bool { return x.Offset < 7 }))
	got, err = e.readLog(ctx, topic, true)
	if err != nil {
		return err
	}
	if d := diffRecords(recordsOf(got), wantCommitted); d != "" {
		return fmt.Errorf("read_committed, franz-go read: %s", d)
	}
	// The client's own consumer: every record with read_uncommitted, the
	// aborted ones included; the committed ones with read_committed.
	wantAll := c.consumable(recordsOf(want))
	consumed, err := d.consume(ctx, topic, 2, wantAll)
	if err != nil {
		return fmt.Errorf("consume read_uncommitted: %w", err)
	}
	sortRecords(consumed)
	if d := diffRecords(consumed, wantAll); d != "" {
		return fmt.Errorf("read_uncommitted, the client consumed: %s", d)
	}
	wantCommitted = c.consumable(wantCommitted)
	consumed, err = d.consumeCommitted(ctx, topic, 2, wantCommitted)
	if err != nil {
		return fmt.Errorf("consume read_committed: %w", err)
	}
	sortRecords(consumed)
	if d := diffRecords(consumed, wantCommitted); d != "" {
		return fmt.Errorf("read_committed, the client consumed: %s", d)
	}
	return nil
}

// txnOffsetsFeature runs three rounds of consume-transform-produce
// (txnRound) from an input topic of 2 partitions to an output topic of 2
// partitions. franz-go produces the first half of the data set, and round
// 1 commits it; then the second half, which round 2 consumes and aborts,
// and round 3 consumes again, from the offsets round 1 committed, and
// commits. After each round the group's committed offsets, read with kadm,
// must be where the last committed round left them, and the output topic,
// read with read_committed, must hold exactly the copies that the
// committed rounds produced.
func txnOffsetsFeature(ctx context.Context, e *env, c *client, d driver, topic string) error {
	input, output := topic+"-in", topic+"-out"
	for _, t := range []string{input, output} {
		if err := e.createTopic(ctx, t, 2, nil); err != nil {
			return err
		}
	}
	data := dataSet("txn-input", 2, base())
	half := len(data) / 2
	perPartition := int64(half / 2)
	// Where the copies of a round's records land: round 1 at the input's
	// offsets, round 2 after round 1's commit marker, round 3 after round
	// 2's abort marker.
	rounds := []struct {
		records []record
		commit  bool
		// ends are each input partition's end offset, up to which the
		// round consumes; committed the group's committed offset after
		// the round.
		ends, committed int64
		// outShift is added to an input record's offset to give its
		// copy's.
		outShift int64
	}{
		{data[:half], true, perPartition, perPartition, 0},
		{data[half:], false, 2 * perPartition, perPartition, 1},
		{data[half:], true, 2 * perPartition, 2 * perPartition, perPartition + 2},
	}
	var produced, committed []record // the copies, and those of committed rounds
	for i, r := range rounds {
		if i < 2 {
			if err := e.produce(ctx, input, "none", r.records); err != nil {
				return err
			}
		}
		round := txnRound{ID: txnID(topic), Group: topic, Input: input, Output: output, Ends: []int64{r.ends, r.ends}, Commit: r.commit}
		consumed, err := d.transact(ctx, round)
		if err != nil {
			return fmt.Errorf("round %d (%s): %w", i+1, commitOrAbort(r.commit), err)
		}
		sortRecords(consumed)
		if d := diffRecords(consumed, c.consumable(sorted(r.records))); d != "" {
			return fmt.Errorf("round %d consumed from the group's committed offsets: %s", i+1, d)
		}
		if err := e.checkCommitted(ctx, topic, input, []int64{r.committed, r.committed}); err != nil {
			return fmt.Errorf("after round %d (%s): %w", i+1, commitOrAbort(r.commit), err)
		}
		produced = append(produced, shiftOffsets(r.records, r.outShift)...)
		if r.commit {
			committed = append(committed, shiftOffsets(r.records, r.outShift)...)
		}
		if err := e.checkOutput(ctx, output, produced, committed); err != nil {
			return fmt.Errorf("after round %d (%s): %w", i+1, commitOrAbort(r.commit), err)
		}
	}
	return nil
}

// checkOutput reads the output topic of txn/offsets with franz-go: with
// read_uncommitted it must hold every copy produced, with read_committed
// those of the committed rounds, all in transactional batches of one
// producer.
func (e *env) checkOutput(ctx context.Context, output string, produced, committed []record) error {
	for _, read := range []struct {
		committed bool
		want      []record
	}{{false, produced}, {true, committed}} {
		got, err := e.readLog(ctx, output, read.committed)
		if err != nil {
			return err
		}
		if d := diffRecords(recordsOf(got), sorted(read.want)); d != "" {
			return fmt.Errorf("%s, franz-go read the output: %s", isolation(read.committed), d)
		}
		if err := checkTransactional(got); err != nil {
			return fmt.Errorf("the output: %w", err)
		}
	}
	return nil
}

func isolation(committed bool) string {
	if committed {
		return "read_committed"
	}
	return "read_uncommitted"
}

func commitOrAbort(commit bool) string {
	if commit {
		return "commit"
	}
	return "abort"
}

// txnFencingFeature has a second producer of a transactional id fence the
// first (fencing). The first producer must fail with the client's fenced
// error; franz-go must read, with read_uncommitted, the first producer's
// record, the abort marker of its transaction (the coordinator aborts an
// open transaction when the id is initialised again), the second
// producer's record at a later epoch of the same producer id, and its
// commit marker: the first producer's late record is not stored.
func txnFencingFeature(ctx context.Context, e *env, c *client, d driver, topic string) error {
	if err := e.createTopic(ctx, topic, 1, nil); err != nil {
		return err
	}
	data := c.produced(dataSet("txn-fencing", 1, base()))
	f := fencing{First: data[0], Late: data[1], Second: data[2]}
	f.Late.Offset, f.Second.Offset = -1, 2 // after First and the abort marker
	id := txnID(topic)
	fenced, err := d.fence(ctx, topic, id, f)
	if err != nil {
		return fmt.Errorf("fencing: %w", err)
	}
	if err := checkFenced(fenced); err != nil {
		return err
	}
	pid, epoch, err := e.txnProducer(ctx, id)
	if err != nil {
		return err
	}
	got, err := e.readLog(ctx, topic, false)
	if err != nil {
		return err
	}
	want := []logEntry{
		dataEntries([]record{f.First}, pid)[0],
		markerEntry(0, 1, "abort", pid),
		dataEntries([]record{f.Second}, pid)[0],
		markerEntry(0, 3, "commit", pid),
	}
	if d := diffLog(got, want); d != "" {
		return fmt.Errorf("read_uncommitted, franz-go read: %s", d)
	}
	if err := checkEpochs(got, epoch); err != nil {
		return err
	}
	if first, second := got[0].producerEpoch, got[2].producerEpoch; first >= second {
		return fmt.Errorf("the first producer's record has epoch %d, the second producer's %d: want an earlier one", first, second)
	}
	return nil
}

// librdkafkaFenced is librdkafka's own error for a fenced producer
// (RD_KAFKA_RESP_ERR__FENCED), fatal, which it raises for either of
// fencedCodes, naming the broker's error in its message.
const librdkafkaFenced = "_FENCED"

// checkFenced checks the error with which the client failed the fenced
// producer: a fenced error (fencedCodes, or librdkafka's).
func checkFenced(fenced error) error {
	if fenced == nil {
		return errors.New("the first producer did not fail after the second initialised, want a fenced error")
	}
	if script, ok := errors.AsType[*kafkaError](fenced); ok && script.Name == librdkafkaFenced {
		return nil
	}
	code, ok := kafkaCode(fenced)
	if !ok {
		return fmt.Errorf("the first producer failed without a Kafka error code, want a fenced error: %w", fenced)
	}
	for _, want := range fencedCodes {
		if code == want.Code {
			return nil
		}
	}
	return fmt.Errorf("the first producer failed with Kafka error %d, want PRODUCER_FENCED (90) or INVALID_PRODUCER_EPOCH (47): %w", code, fenced)
}

// produced narrows a data set to what the client can produce.
func (c *client) produced(records []record) []record {
	if c.produceData == nil {
		return records
	}
	return c.produceData(records)
}

// shiftOffsets returns a copy of records with n added to their offsets.
func shiftOffsets(records []record, n int64) []record {
	out := append([]record(nil), records...)
	for i := range out {
		out[i].Offset += n
	}
	return out
}

// partitionOf returns the records of one partition, in order.
func partitionOf(records []record, p int32) []record {
	var out []record
	for _, r := range sorted(records) {
		if r.Partition == p {
			out = append(out, r)
		}
	}
	return out
}

// txnProducer returns the producer id and epoch the coordinator has for a
// transactional id (DescribeTransactions, with kadm), whose last
// transaction must have committed.
func (e *env) txnProducer(ctx context.Context, id string) (int64, int16, error) {
	described, err := e.admin.DescribeTransactions(ctx, id)
	if err != nil {
		return 0, 0, fmt.Errorf("franz-go: describe transactions: %w", err)
	}
	t, ok := described[id]
	switch {
	case !ok:
		return 0, 0, fmt.Errorf("franz-go: describe transactions: no transactional id %s", id)
	case t.Err != nil:
		return 0, 0, fmt.Errorf("franz-go: describe transactions: %w", t.Err)
	case t.State != "CompleteCommit":
		return 0, 0, fmt.Errorf("the transactional id %s is in state %s, want CompleteCommit", id, t.State)
	}
	return t.ProducerID, t.ProducerEpoch, nil
}

// checkCommitted reads a group's committed offsets of a topic with kadm:
// they must be want, by partition.
func (e *env) checkCommitted(ctx context.Context, group, topic string, want []int64) error {
	committed, err := e.admin.FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		return fmt.Errorf("franz-go: fetch offsets: %w", err)
	}
	var wrong []string
	for p, w := range want {
		o, ok := committed.Lookup(topic, int32(p))
		switch {
		case !ok:
			wrong = append(wrong, fmt.Sprintf("partition %d: none, want %d", p, w))
		case o.At != w:
			wrong = append(wrong, fmt.Sprintf("partition %d: %d, want %d", p, o.At, w))
		}
	}
	if len(wrong) > 0 {
		return fmt.Errorf("the group's committed offsets: %s", strings.Join(wrong, "; "))
	}
	return nil
}

// checkTransactional checks that every record and marker of a log is in a
// transactional batch of one producer id.
func checkTransactional(log []logEntry) error {
	var ids []int64
	for _, x := range log {
		if !x.transactional {
			return fmt.Errorf("partition %d offset %d is not in a transactional batch", x.Partition, x.Offset)
		}
		if !slices.Contains(ids, x.producerID) {
			ids = append(ids, x.producerID)
		}
	}
	if len(ids) > 1 {
		return fmt.Errorf("written by producer ids %v, want one", ids)
	}
	return nil
}
