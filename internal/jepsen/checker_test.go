package jepsen

// The checker: a pure function of the history and the final reads, so that
// the same inputs always give the same findings, in the same order.
//
// The model. Every value is sent once, by one send. A send is acknowledged
// (ok, at an offset) or not (unknown: it may be in the log, once). A
// transaction is committed (EndTxn(commit) answered without error),
// aborted (its commit was never asked for, or franz-go refused to send it)
// or unknown (the commit was asked for and no answer came). Under the
// durable policy an acknowledged record is in the log at its offset,
// whatever its transaction's fate; read_committed shows every
// non-transactional record, every record of a committed transaction and
// nothing of an aborted one; an unknown transaction is shown whole or not
// at all.
//
// The final reads are the truth about the log: read_uncommitted (ru) is the
// log, read_committed (rc) what read_committed consumers must see. Both
// were read after every transaction was settled, so a transaction is
// visible in rc exactly when it committed.

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// anomaly names a kind of finding.
type anomaly string

const (
	lostWrite          anomaly = "lost write"
	duplicate          anomaly = "duplicate"
	phantom            anomaly = "phantom"
	inconsistentOffset anomaly = "inconsistent offset"
	abortedRead        anomaly = "aborted read"
	tornTxn            anomaly = "torn transaction"
	nonMonotonic       anomaly = "non-monotonic poll"
	skippedOffset      anomaly = "skipped offset"
	lostCommit         anomaly = "lost commit"
)

// finding is one anomaly: what was seen, and the operations involved (by
// invocation position).
type finding struct {
	Kind anomaly
	Text string
	Ops  []int
}

// finalLog is what the two final reads returned, per partition, in offset
// order.
type finalLog struct {
	committed   map[int32][]record // read_committed
	uncommitted map[int32][]record // read_uncommitted
}

type position struct {
	partition int32
	offset    int64
}

func (p position) String() string { return fmt.Sprintf("p%d@%d", p.partition, p.offset) }

// logIndex indexes one final read.
type logIndex struct {
	at      map[position]string
	where   map[string][]position
	offsets map[int32][]int64 // ascending
}

func indexLog(log map[int32][]record) logIndex {
	x := logIndex{at: map[position]string{}, where: map[string][]position{}, offsets: map[int32][]int64{}}
	for _, p := range slices.Sorted(maps.Keys(log)) {
		for _, r := range log[p] {
			pos := position{p, r.Offset}
			x.at[pos] = r.Value
			x.where[r.Value] = append(x.where[r.Value], pos)
			x.offsets[p] = append(x.offsets[p], r.Offset)
		}
		slices.Sort(x.offsets[p])
	}
	return x
}

// between returns the offsets of partition p in [from, to).
func (x logIndex) between(p int32, from, to int64) []int64 {
	offs := x.offsets[p]
	i := sort.Search(len(offs), func(i int) bool { return offs[i] >= from })
	j := sort.Search(len(offs), func(i int) bool { return offs[i] >= to })
	if i >= j {
		return nil
	}
	return offs[i:j]
}

// commitIndex answers, per partition, the highest offset the group
// committed before a point of the history.
type commitIndex struct {
	sent  map[int32][]*op // by Invoke
	acked map[int32][]*op // the ok ones, by Complete
}

// sentBefore is the highest offset of the commits invoked before seq (0 if
// none: the group then starts at the log's start).
func (x commitIndex) sentBefore(p int32, seq int) int64 {
	high := int64(0)
	for _, o := range x.sent[p] {
		if o.Invoke >= seq {
			break
		}
		high = max(high, o.Offset)
	}
	return high
}

// ackedBefore is the highest offset of the commits acknowledged before seq
// (-1 if none), and that commit.
func (x commitIndex) ackedBefore(p int32, seq int) (int64, *op) {
	high, by := int64(-1), (*op)(nil)
	for _, o := range x.acked[p] {
		if o.Complete >= seq {
			break
		}
		if o.Offset > high {
			high, by = o.Offset, o
		}
	}
	return high, by
}

type checker struct {
	history  []op
	ru, rc   logIndex
	sends    map[string]*op   // by value
	txns     map[string]*op   // by transaction
	txnSends map[string][]*op // a transaction's sends
	commits  commitIndex
	findings []finding
}

// check analyses a history and the final reads.
func check(history []op, final finalLog) []finding {
	c := &checker{
		history:  history,
		ru:       indexLog(final.uncommitted),
		rc:       indexLog(final.committed),
		sends:    map[string]*op{},
		txns:     map[string]*op{},
		txnSends: map[string][]*op{},
		commits:  commitIndex{sent: map[int32][]*op{}, acked: map[int32][]*op{}},
	}
	for i := range history {
		o := &history[i]
		switch o.Kind {
		case kindSend:
			if c.sends[o.Value] != nil {
				panic(fmt.Sprintf("jepsen: value %s sent twice: the workload must send unique values", o.Value))
			}
			c.sends[o.Value] = o
			if o.Txn != "" {
				c.txnSends[o.Txn] = append(c.txnSends[o.Txn], o)
			}
		case kindTxn:
			c.txns[o.Txn] = o
		case kindCommit:
			c.commits.sent[o.Partition] = append(c.commits.sent[o.Partition], o)
			if o.Outcome == ok {
				c.commits.acked[o.Partition] = append(c.commits.acked[o.Partition], o)
			}
		}
	}
	for _, acked := range c.commits.acked {
		slices.SortFunc(acked, func(a, b *op) int { return cmp.Compare(a.Complete, b.Complete) })
	}
	c.checkLog()
	c.checkVisibility()
	c.checkObservations()
	c.checkSessions()
	slices.SortStableFunc(c.findings, func(a, b finding) int { return cmp.Compare(a.Kind, b.Kind) })
	return c.findings
}

func (c *checker) report(kind anomaly, ops []*op, format string, args ...any) {
	f := finding{Kind: kind, Text: fmt.Sprintf(format, args...)}
	for _, o := range ops {
		if o != nil {
			f.Ops = append(f.Ops, o.Invoke)
		}
	}
	c.findings = append(c.findings, f)
}

// txnOutcome is the fate of transaction id in the model.
func (c *checker) txnOutcome(id string) outcome {
	o := c.txns[id]
	switch {
	case o == nil || !o.Commit:
		return aborted // the commit was never asked for
	case o.Outcome == committed || o.Outcome == aborted:
		return o.Outcome
	default:
		return unknown
	}
}

// checkLog: every value once, every value sent by someone, every
// acknowledged record in the log at its offset.
func (c *checker) checkLog() {
	for _, read := range []struct {
		name string
		x    logIndex
	}{{"read_uncommitted", c.ru}, {"read_committed", c.rc}} {
		for _, v := range slices.Sorted(maps.Keys(read.x.where)) {
			if at := read.x.where[v]; len(at) > 1 {
				c.report(duplicate, []*op{c.sends[v]}, "%s is %d times in the log (%s): %v", v, len(at), read.name, at)
			}
			if c.sends[v] == nil {
				c.report(phantom, nil, "%s is in the log (%s) at %v, and no client sent it", v, read.name, read.x.where[v])
			}
		}
	}
	for _, v := range slices.Sorted(maps.Keys(c.sends)) {
		s := c.sends[v]
		if s.Outcome != ok {
			continue
		}
		acked := position{s.Partition, s.Offset}
		if got, in := c.ru.at[acked]; in && got == v {
			continue
		}
		if at := c.ru.where[v]; len(at) > 0 {
			c.report(inconsistentOffset, []*op{s}, "%s acknowledged at %s, in the log at %v (%s holds %q)", v, acked, at, acked, c.ru.at[acked])
		} else {
			c.report(lostWrite, []*op{s, c.txns[s.Txn]}, "%s acknowledged at %s, not in the log (%s holds %q)", v, acked, acked, c.ru.at[acked])
		}
	}
}

// checkVisibility: read_committed is a part of the log, shows every
// non-transactional record, and each transaction wholly or not at all, as
// its outcome says.
func (c *checker) checkVisibility() {
	for _, p := range slices.Sorted(maps.Keys(c.rc.offsets)) {
		for _, off := range c.rc.offsets[p] {
			pos := position{p, off}
			if v, w := c.rc.at[pos], c.ru.at[pos]; v != w {
				c.report(inconsistentOffset, []*op{c.sends[v]}, "read_committed has %s at %s, read_uncommitted %q", v, pos, w)
			}
		}
	}
	for _, v := range slices.Sorted(maps.Keys(c.ru.where)) {
		s := c.sends[v]
		if s == nil || s.Txn != "" || len(c.rc.where[v]) > 0 {
			continue
		}
		c.report(lostWrite, []*op{s}, "%s, not transactional, is in the log at %v and invisible to read_committed", v, c.ru.where[v])
	}
	ids := map[string]bool{}
	for id := range c.txns {
		ids[id] = true
	}
	for id := range c.txnSends {
		ids[id] = true
	}
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		c.checkTxn(id)
	}
}

func (c *checker) checkTxn(id string) {
	values := map[string]bool{}
	if o := c.txns[id]; o != nil {
		for _, v := range o.Values {
			values[v] = true
		}
	}
	for _, s := range c.txnSends[id] {
		values[s.Value] = true
	}
	var present, visible, hidden []string
	for _, v := range slices.Sorted(maps.Keys(values)) {
		if len(c.ru.where[v]) == 0 {
			continue
		}
		present = append(present, v)
		if len(c.rc.where[v]) > 0 {
			visible = append(visible, v)
		} else {
			hidden = append(hidden, v)
		}
	}
	ops := append([]*op{c.txns[id]}, c.txnSends[id]...)
	switch outcome := c.txnOutcome(id); {
	case outcome == committed && len(hidden) > 0 && len(visible) == 0:
		c.report(lostWrite, ops, "transaction %s committed; its records %v are in the log, none visible to read_committed", id, hidden)
	case outcome == aborted && len(visible) > 0:
		c.report(abortedRead, ops, "transaction %s aborted; read_committed shows %v of it (in the log: %v)", id, visible, present)
	case len(visible) > 0 && len(hidden) > 0:
		c.report(tornTxn, ops, "transaction %s (%s): read_committed shows %v, hides %v", id, outcome, visible, hidden)
	}
}

// checkObservations: what consumers read during the run is what the final
// read_committed holds at the same offsets.
func (c *checker) checkObservations() {
	for i := range c.history {
		o := &c.history[i]
		if o.Kind != kindPoll {
			continue
		}
		for _, r := range o.Records {
			pos := position{o.Partition, r.Offset}
			s := c.sends[r.Value]
			if s != nil && s.Txn != "" && (c.txnOutcome(s.Txn) == aborted || len(c.rc.where[r.Value]) == 0) {
				c.report(abortedRead, []*op{o, s, c.txns[s.Txn]}, "read_committed poll returned %s at %s, of transaction %s (%s; not visible in the final read)",
					r.Value, pos, s.Txn, c.txnOutcome(s.Txn))
				continue
			}
			if got := c.rc.at[pos]; got != r.Value {
				c.report(inconsistentOffset, []*op{o, s}, "poll returned %s at %s; the final read_committed has %q there and %s at %v",
					r.Value, pos, got, r.Value, c.rc.where[r.Value])
			}
		}
	}
}

// cursor is a consumer session's position on one partition.
type cursor struct {
	assigned *op   // the assignment
	last     *op   // the poll that returned the last record
	offset   int64 // the last offset returned; -1 before the first
}

// checkSessions: within a consumer session, offsets go forward, and no
// record visible to read_committed is passed over.
func (c *checker) checkSessions() {
	byProcess := map[string][]*op{}
	for i := range c.history {
		o := &c.history[i]
		switch o.Kind {
		case kindPoll, kindAssigned, kindRevoked, kindLost:
			byProcess[o.Process] = append(byProcess[o.Process], o)
		}
	}
	for _, process := range slices.Sorted(maps.Keys(byProcess)) {
		cursors := map[int32]*cursor{}
		for _, o := range byProcess[process] {
			switch o.Kind {
			case kindAssigned:
				for _, p := range o.Partitions {
					cursors[p] = &cursor{assigned: o, offset: -1}
				}
			case kindRevoked, kindLost:
				for _, p := range o.Partitions {
					delete(cursors, p)
				}
			case kindPoll:
				cur := cursors[o.Partition]
				if cur == nil { // not assigned as far as we know: treat as a resumption
					cur = &cursor{assigned: &op{Invoke: o.Invoke, Complete: o.Complete, From: -1}, offset: -1}
					cursors[o.Partition] = cur
				}
				for _, r := range o.Records {
					c.advance(cur, o, r.Offset)
				}
			}
		}
	}
}

// advance moves cur to offset, returned by poll o.
func (c *checker) advance(cur *cursor, o *op, offset int64) {
	p := o.Partition
	switch {
	case cur.offset >= 0 && offset <= cur.offset:
		c.report(nonMonotonic, []*op{cur.last, o}, "%s: p%d at offset %d after %d, without a seek or rebalance", o.Process, p, offset, cur.offset)
		return
	case cur.offset >= 0:
		if skipped := c.rc.between(p, cur.offset+1, offset); len(skipped) > 0 {
			c.report(skippedOffset, []*op{cur.last, o}, "%s: p%d jumped from %d to %d over visible records at %v", o.Process, p, cur.offset, offset, c.values(p, skipped))
		}
	case cur.assigned.From >= 0:
		if skipped := c.rc.between(p, cur.assigned.From, offset); len(skipped) > 0 {
			c.report(skippedOffset, []*op{cur.assigned, o}, "%s: p%d started at %d, consuming from %d, over visible records at %v", o.Process, p, offset, cur.assigned.From, c.values(p, skipped))
		}
	default: // a group member resuming from the group's committed offset
		floor := c.commits.sentBefore(p, o.Complete)
		if skipped := c.rc.between(p, floor, offset); len(skipped) > 0 {
			c.report(skippedOffset, []*op{cur.assigned, o}, "%s: p%d resumed at %d; no commit sent before went past %d; skipped visible records at %v", o.Process, p, offset, floor, c.values(p, skipped))
		}
		if acked, by := c.commits.ackedBefore(p, cur.assigned.Invoke); offset < acked {
			c.report(lostCommit, []*op{by, cur.assigned, o}, "%s: p%d resumed at %d; offset %d was committed, acknowledged, before the assignment", o.Process, p, offset, acked)
		}
	}
	cur.offset, cur.last = offset, o
}

// values describes the records of p at offsets (at most a few).
func (c *checker) values(p int32, offsets []int64) string {
	var parts []string
	for i, off := range offsets {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("…(%d more)", len(offsets)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%d:%s", off, c.rc.at[position{p, off}]))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// describe writes the findings, at most perKind of each kind, with the
// operations involved and the nemesis's operations that happened meanwhile.
func describe(history []op, findings []finding, perKind int) string {
	byInvoke := map[int]op{}
	var nemesis []op
	for _, o := range history {
		byInvoke[o.Invoke] = o
		if o.Kind == kindKill || o.Kind == kindStart {
			nemesis = append(nemesis, o)
		}
	}
	counts := map[anomaly]int{}
	for _, f := range findings {
		counts[f.Kind]++
	}
	var b strings.Builder
	for _, kind := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&b, "%d %s:\n", counts[kind], kind)
		shown := 0
		for _, f := range findings {
			if f.Kind != kind {
				continue
			}
			if shown == perKind {
				fmt.Fprintf(&b, "  … %d more\n", counts[kind]-shown)
				break
			}
			shown++
			fmt.Fprintf(&b, "  %s\n", f.Text)
			first, last := -1, -1
			for _, i := range f.Ops {
				o := byInvoke[i]
				fmt.Fprintf(&b, "      %s\n", o)
				if first < 0 || o.Invoke < first {
					first = o.Invoke
				}
				last = max(last, o.Invoke, o.Complete)
			}
			for _, n := range nemesis {
				if first >= 0 && n.Invoke > first && n.Invoke < last {
					fmt.Fprintf(&b, "      meanwhile %s\n", n)
				}
			}
		}
	}
	return b.String()
}
