package jepsen

import (
	"fmt"
	"slices"
	"testing"
)

// builder writes small histories for the checker's tests. Each operation
// completes when it is added, unless it is left pending.
type builder struct {
	ops []op
	seq int
}

func (b *builder) add(o op) *builder {
	o.Invoke, o.Complete = b.seq, b.seq
	b.seq++
	if o.Outcome == pending && o.Kind != kindSend && o.Kind != kindTxn {
		o.Outcome = ok
	}
	b.ops = append(b.ops, o)
	return b
}

// send adds an acknowledged send (offset >= 0) or an unknown one.
func (b *builder) send(process, value string, partition int32, offset int64, txn string) *builder {
	o := op{Process: process, Kind: kindSend, Value: value, Partition: partition, Offset: offset, Txn: txn, Outcome: ok}
	if offset < 0 {
		o.Outcome = unknown
	}
	return b.add(o)
}

func (b *builder) txn(process, id string, commit bool, result outcome, values ...string) *builder {
	return b.add(op{Process: process, Kind: kindTxn, Txn: id, Commit: commit, Outcome: result, Values: values})
}

// poll adds a poll of partition p; records are "offset:value".
func (b *builder) poll(process string, p int32, records ...string) *builder {
	return b.add(op{Process: process, Kind: kindPoll, Partition: p, Records: parseRecords(records)})
}

func (b *builder) assigned(process string, from int64, ps ...int32) *builder {
	return b.add(op{Process: process, Kind: kindAssigned, Partitions: ps, From: from})
}

func (b *builder) commit(process string, p int32, offset int64, result outcome) *builder {
	return b.add(op{Process: process, Kind: kindCommit, Partition: p, Offset: offset, Outcome: result})
}

func parseRecords(rs []string) []record {
	var out []record
	for _, s := range rs {
		var r record
		if _, err := fmt.Sscanf(s, "%d:%s", &r.Offset, &r.Value); err != nil {
			panic(fmt.Sprintf("record %q: %v", s, err))
		}
		out = append(out, r)
	}
	return out
}

// logOf builds a final read of partition 0 from "offset:value" records.
func logOf(rs ...string) map[int32][]record { return map[int32][]record{0: parseRecords(rs)} }

func TestChecker(t *testing.T) {
	// A base history: an idempotent producer's two records, a committed
	// transaction of two and an aborted one of one, on partition 0.
	base := func() *builder {
		return new(builder).
			send("idem-0", "i0", 0, 0, "").
			send("txn-0/1", "t0", 0, 1, "T0").
			send("txn-0/1", "t1", 0, 2, "T0").
			txn("txn-0/1", "T0", true, committed, "t0", "t1").
			send("txn-0/1", "t2", 0, 4, "T1").
			txn("txn-0/1", "T1", false, aborted, "t2").
			send("idem-0", "i1", 0, 6, "")
	}
	ru := logOf("0:i0", "1:t0", "2:t1", "4:t2", "6:i1") // 3 and 5 are markers
	rc := logOf("0:i0", "1:t0", "2:t1", "6:i1")
	tests := []struct {
		name    string
		history *builder
		rc, ru  map[int32][]record
		want    []anomaly
	}{
		{"clean", base(), rc, ru, nil},
		{"clean reads",
			base().assigned("read-0", 0, 0).poll("read-0", 0, "0:i0", "1:t0").poll("read-0", 0, "2:t1", "6:i1"),
			rc, ru, nil},
		{"an acknowledged record missing",
			base(), logOf("1:t0", "2:t1", "6:i1"), logOf("1:t0", "2:t1", "4:t2", "6:i1"),
			[]anomaly{lostWrite}},
		{"a committed transaction invisible",
			base(), logOf("0:i0", "6:i1"), ru,
			[]anomaly{lostWrite}},
		{"a non-transactional record invisible",
			base(), logOf("1:t0", "2:t1", "6:i1"), ru,
			[]anomaly{lostWrite}},
		{"an acknowledged record elsewhere",
			base(), logOf("0:i0", "1:t0", "2:t1", "7:i1"), logOf("0:i0", "1:t0", "2:t1", "4:t2", "7:i1"),
			[]anomaly{inconsistentOffset}},
		{"a duplicate",
			base(), logOf("0:i0", "1:t0", "2:t1", "6:i1", "7:i1"), logOf("0:i0", "1:t0", "2:t1", "4:t2", "6:i1", "7:i1"),
			[]anomaly{duplicate, duplicate}},
		{"a value nobody sent",
			base(), logOf("0:i0", "1:t0", "2:t1", "6:i1", "7:x"), logOf("0:i0", "1:t0", "2:t1", "4:t2", "6:i1", "7:x"),
			[]anomaly{phantom, phantom}},
		{"an aborted transaction visible at the end",
			base(), logOf("0:i0", "1:t0", "2:t1", "4:t2", "6:i1"), ru,
			[]anomaly{abortedRead}},
		{"an aborted transaction read during the run",
			base().assigned("read-0", 0, 0).poll("read-0", 0, "0:i0", "1:t0", "2:t1", "4:t2", "6:i1"),
			rc, ru, []anomaly{abortedRead}},
		{"a committed transaction torn",
			base(), logOf("0:i0", "1:t0", "6:i1"), ru,
			[]anomaly{tornTxn}},
		{"an unknown transaction whole",
			new(builder).send("txn-0/1", "t0", 0, 0, "T0").send("txn-0/1", "t1", 0, -1, "T0").txn("txn-0/1", "T0", true, unknown, "t0", "t1"),
			logOf("0:t0", "1:t1"), logOf("0:t0", "1:t1"), nil},
		{"an unknown transaction not at all",
			new(builder).send("txn-0/1", "t0", 0, 0, "T0").send("txn-0/1", "t1", 0, -1, "T0").txn("txn-0/1", "T0", true, unknown, "t0", "t1"),
			logOf(), logOf("0:t0", "1:t1"), nil},
		{"an unknown transaction torn",
			new(builder).send("txn-0/1", "t0", 0, 0, "T0").send("txn-0/1", "t1", 0, -1, "T0").txn("txn-0/1", "T0", true, unknown, "t0", "t1"),
			logOf("0:t0"), logOf("0:t0", "1:t1"), []anomaly{tornTxn}},
		{"a transaction never ended is aborted",
			new(builder).send("txn-0/1", "t0", 0, 0, "T0"),
			logOf("0:t0"), logOf("0:t0"), []anomaly{abortedRead}},
		{"offsets going backwards",
			base().assigned("read-0", 0, 0).poll("read-0", 0, "0:i0", "1:t0", "2:t1").poll("read-0", 0, "1:t0", "2:t1", "6:i1"),
			rc, ru, []anomaly{nonMonotonic, nonMonotonic}},
		{"offsets going backwards after a new assignment",
			base().assigned("group-0/1", -1, 0).poll("group-0/1", 0, "0:i0", "1:t0", "2:t1").commit("group-0/1", 0, 1, unknown).
				assigned("group-0/1", -1, 0).poll("group-0/1", 0, "1:t0", "2:t1", "6:i1"),
			rc, ru, nil},
		{"a skip between polls",
			base().assigned("read-0", 0, 0).poll("read-0", 0, "0:i0").poll("read-0", 0, "2:t1", "6:i1"),
			rc, ru, []anomaly{skippedOffset}},
		{"a skip at the start",
			base().assigned("read-0", 0, 0).poll("read-0", 0, "1:t0", "2:t1", "6:i1"),
			rc, ru, []anomaly{skippedOffset}},
		{"a group member resuming at its commit",
			base().assigned("group-0/1", -1, 0).poll("group-0/1", 0, "0:i0", "1:t0").commit("group-0/1", 0, 2, ok).
				assigned("group-1/1", -1, 0).poll("group-1/1", 0, "2:t1", "6:i1"),
			rc, ru, nil},
		{"a group member resuming past the commit",
			base().assigned("group-0/1", -1, 0).poll("group-0/1", 0, "0:i0").commit("group-0/1", 0, 1, ok).
				assigned("group-1/1", -1, 0).poll("group-1/1", 0, "2:t1", "6:i1"),
			rc, ru, []anomaly{skippedOffset}},
		{"a group member resuming before an acknowledged commit",
			base().assigned("group-0/1", -1, 0).poll("group-0/1", 0, "0:i0", "1:t0", "2:t1").commit("group-0/1", 0, 3, ok).
				assigned("group-1/1", -1, 0).poll("group-1/1", 0, "1:t0", "2:t1", "6:i1"),
			rc, ru, []anomaly{lostCommit}},
		{"a group member resuming before a failed commit",
			base().assigned("group-0/1", -1, 0).poll("group-0/1", 0, "0:i0", "1:t0", "2:t1").commit("group-0/1", 0, 3, unknown).
				assigned("group-1/1", -1, 0).poll("group-1/1", 0, "1:t0", "2:t1", "6:i1"),
			rc, ru, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings := check(tt.history.ops, finalLog{committed: tt.rc, uncommitted: tt.ru})
			var got []anomaly
			for _, f := range findings {
				got = append(got, f.Kind)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("found %v, want %v:\n%s", got, tt.want, describe(tt.history.ops, findings, 10))
			}
		})
	}
}

// TestMutateAbortedAsCommitted: the mutation that shows the checker failing
// turns every aborted transaction committed, and nothing else.
func TestMutateAbortedAsCommitted(t *testing.T) {
	h := new(builder).
		send("txn-0/1", "t0", 0, 0, "T0").txn("txn-0/1", "T0", false, aborted, "t0").
		send("txn-0/1", "t1", 0, 2, "T1").txn("txn-0/1", "T1", true, unknown, "t1").ops
	findings := check(mutate(h, mutateAbortedAsCommitted), finalLog{committed: logOf(), uncommitted: logOf("0:t0", "2:t1")})
	if len(findings) != 1 || findings[0].Kind != lostWrite {
		t.Errorf("findings %+v, want one lost write (T0)", findings)
	}
}
