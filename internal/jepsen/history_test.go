package jepsen

// The history: every operation of every client, with its outcome.
//
// An operation is recorded when it is invoked and completed when its answer
// comes (or never, when the run ends first). Invoke and Complete are
// positions in one sequence shared by all operations, so the checker can
// tell that an operation completed before another was invoked. Polls,
// assignments and the nemesis's kills and starts are instantaneous: both
// positions are the same.

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// kind is what an operation did.
type kind string

const (
	kindSend     kind = "send"     // one record produced
	kindTxn      kind = "txn"      // a transaction ended (or was abandoned)
	kindPoll     kind = "poll"     // a consumer's records of one partition from one poll
	kindAssigned kind = "assigned" // a consumer was given partitions
	kindRevoked  kind = "revoked"  // a group member gave partitions up
	kindLost     kind = "lost"     // a group member lost its partitions (fatal group error)
	kindCommit   kind = "commit"   // a group member committed an offset
	kindKill     kind = "kill"     // the nemesis killed the broker
	kindStart    kind = "start"    // the broker was (re)started
)

// outcome is how an operation ended.
type outcome string

const (
	pending   outcome = ""          // not completed when the run ended: unknown
	ok        outcome = "ok"        // sends, commits, instantaneous operations
	failed    outcome = "failed"    // a definite refusal (commits only)
	unknown   outcome = "unknown"   // an error: it may or may not have happened
	committed outcome = "committed" // a transaction's EndTxn(commit) succeeded
	aborted   outcome = "aborted"   // commit never asked for, or refused unsent
)

// record is a record as a consumer read it.
type record struct {
	Offset int64  `json:"offset"`
	Value  string `json:"value"`
}

// op is one operation of the history. Fields not used by its kind are zero.
type op struct {
	Invoke   int           `json:"invoke"`
	Complete int           `json:"complete"` // -1 while pending
	Time     time.Duration `json:"time"`     // since the run began, at invocation
	Took     time.Duration `json:"took"`     // from invocation to completion
	Process  string        `json:"process"`  // worker and client: "txn-1/2"
	Kind     kind          `json:"kind"`
	Outcome  outcome       `json:"outcome,omitempty"`
	Err      string        `json:"err,omitempty"`

	// Send: Value to Partition, acknowledged at Offset (-1 unless ok), in
	// transaction Txn (empty for idempotent producers).
	Value     string `json:"value,omitempty"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Txn       string `json:"txn,omitempty"`

	// Txn: the transaction's Values and whether its commit was asked for.
	// Commit: Offset committed for Partition.
	Values []string `json:"values,omitempty"`
	Commit bool     `json:"commit,omitempty"`

	// Poll: the Records of Partition, in the order returned.
	Records []record `json:"records,omitempty"`

	// Assigned, revoked, lost: the Partitions; From, for assignments, is
	// where consumption starts (-1: the group's committed offset).
	Partitions []int32 `json:"partitions,omitempty"`
	From       int64   `json:"from"`
}

func (o op) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d", o.Invoke)
	if o.Complete != o.Invoke {
		if o.Complete < 0 {
			b.WriteString("-…")
		} else {
			fmt.Fprintf(&b, "-%d", o.Complete)
		}
	}
	fmt.Fprintf(&b, " %7.3fs %-10s %s", o.Time.Seconds(), o.Process, o.Kind)
	switch o.Kind {
	case kindSend:
		fmt.Fprintf(&b, " %s to p%d", o.Value, o.Partition)
		if o.Txn != "" {
			fmt.Fprintf(&b, " in %s", o.Txn)
		}
		if o.Outcome == ok {
			fmt.Fprintf(&b, ": ok at %d", o.Offset)
		}
	case kindTxn:
		fmt.Fprintf(&b, " %s commit=%v %v", o.Txn, o.Commit, o.Values)
	case kindPoll:
		fmt.Fprintf(&b, " p%d", o.Partition)
		const most = 6
		for i, r := range o.Records {
			if i == most && len(o.Records) > most+1 {
				fmt.Fprintf(&b, " …(%d) %d:%s", len(o.Records)-most-1, o.Records[len(o.Records)-1].Offset, o.Records[len(o.Records)-1].Value)
				break
			}
			fmt.Fprintf(&b, " %d:%s", r.Offset, r.Value)
		}
	case kindAssigned:
		fmt.Fprintf(&b, " %v from %d", o.Partitions, o.From)
	case kindRevoked, kindLost:
		fmt.Fprintf(&b, " %v", o.Partitions)
	case kindCommit:
		fmt.Fprintf(&b, " p%d at %d", o.Partition, o.Offset)
	}
	if o.Kind != kindSend || o.Outcome != ok {
		switch {
		case o.Complete < 0:
			b.WriteString(": pending")
		case o.Outcome != "" && o.Outcome != ok:
			fmt.Fprintf(&b, ": %s", o.Outcome)
		}
	}
	if o.Err != "" {
		fmt.Fprintf(&b, " (%s)", o.Err)
	}
	if o.Took > 0 {
		fmt.Fprintf(&b, " in %v", o.Took.Round(time.Millisecond))
	}
	return b.String()
}

// recorder records the history. Its methods are safe for concurrent use.
type recorder struct {
	start time.Time
	mu    struct {
		sync.Mutex
		seq int
		ops []*op
	}
}

func newRecorder() *recorder { return &recorder{start: time.Now()} }

// invoke records o as invoked and returns it for complete.
func (r *recorder) invoke(o op) *op {
	r.mu.Lock()
	defer r.mu.Unlock()
	o.Invoke, o.Complete, o.Time = r.mu.seq, -1, time.Since(r.start)
	r.mu.seq++
	p := &o
	r.mu.ops = append(r.mu.ops, p)
	return p
}

// complete records o's answer: fill sets its outcome and results.
func (r *recorder) complete(o *op, fill func(o *op)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fill(o)
	o.Complete, o.Took = r.mu.seq, time.Since(r.start)-o.Time
	r.mu.seq++
}

// event records an instantaneous operation.
func (r *recorder) event(o op) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o.Invoke, o.Complete, o.Time = r.mu.seq, r.mu.seq, time.Since(r.start)
	if o.Outcome == pending {
		o.Outcome = ok
	}
	r.mu.seq++
	p := &o
	r.mu.ops = append(r.mu.ops, p)
}

// history returns a copy of the operations so far, in invocation order.
func (r *recorder) history() []op {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := make([]op, len(r.mu.ops))
	for i, p := range r.mu.ops {
		h[i] = *p
	}
	return h
}

// writeHistory writes h as JSON lines.
func writeHistory(w io.Writer, h []op) error {
	enc := json.NewEncoder(w)
	for _, o := range h {
		if err := enc.Encode(o); err != nil {
			return err
		}
	}
	return nil
}
