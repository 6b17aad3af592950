package txn

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Every state, every operation: the answer and the state after, as
// Kafka's coordinator gives them. Epochs are relative to the epoch of the
// state's client (the producer of the transaction).
func TestTransitions(t *testing.T) {
	// reach brings "t" to a state and returns its client.
	reach := map[State]func(h *harness) producer{
		StateEmpty: func(h *harness) producer { return h.newProducer("t") },
		StateOngoing: func(h *harness) producer {
			p := h.newProducer("t")
			h.add(p, tp("a", 0))
			return p
		},
		StatePrepareCommit: func(h *harness) producer {
			p := h.newProducer("t")
			h.add(p, tp("a", 0))
			h.end(4, p, true)
			return p
		},
		StatePrepareAbort: func(h *harness) producer {
			p := h.newProducer("t")
			h.add(p, tp("a", 0))
			h.end(4, p, false)
			return p
		},
		StateCompleteCommit: func(h *harness) producer {
			p := h.newProducer("t")
			h.add(p, tp("a", 0))
			h.end(4, p, true)
			h.writeMarkers()
			return p
		},
		StateCompleteAbort: func(h *harness) producer {
			p := h.newProducer("t")
			h.add(p, tp("a", 0))
			h.end(4, p, false)
			h.writeMarkers()
			return p
		},
	}
	// ops do one operation as the client p and return its error code.
	ops := map[string]func(h *harness, p producer) int16{
		"InitProducerId": func(h *harness, p producer) int16 { return h.initPID("t").ErrorCode },
		"AddPartitions":  func(h *harness, p producer) int16 { return h.add(p, tp("b", 0)) },
		"produce (v2)": func(h *harness, p producer) int16 {
			return code(h.apply(h.c.AddToTransaction(h.now, "t", p.pid, p.epoch, []TopicPartition{tp("b", 0)})).Err)
		},
		"commit":    func(h *harness, p producer) int16 { return h.end(4, p, true).ErrorCode },
		"abort":     func(h *harness, p producer) int16 { return h.end(4, p, false).ErrorCode },
		"commit v5": func(h *harness, p producer) int16 { return h.end(5, p, true).ErrorCode },
		"abort v5":  func(h *harness, p producer) int16 { return h.end(5, p, false).ErrorCode },
		"markers":   func(h *harness, p producer) int16 { h.writeMarkers(); return 0 },
		"timeout": func(h *harness, p producer) int16 {
			h.advance(2 * time.Minute)
			h.apply(h.c.Tick(h.now))
			return 0
		},
		"expiration": func(h *harness, p producer) int16 {
			h.c.Recover(h.now) // schedules the expiration check
			h.advance(8 * 24 * time.Hour)
			if e := h.c.txns["t"]; e != nil && e.meta.state == StateOngoing {
				e.meta.timeoutMs = 1 << 30 // not the timeout's turn
			}
			h.apply(h.c.Tick(h.now))
			return 0
		},
	}
	const gone State = -1
	for _, tc := range []struct {
		from  State
		op    string
		want  *kerr.Error
		to    State
		epoch int16
	}{
		{StateEmpty, "InitProducerId", nil, StateEmpty, 1},
		{StateEmpty, "AddPartitions", nil, StateOngoing, 0},
		{StateEmpty, "produce (v2)", nil, StateOngoing, 0},
		{StateEmpty, "commit", kerr.InvalidTxnState, StateEmpty, 0},
		{StateEmpty, "abort", kerr.InvalidTxnState, StateEmpty, 0},
		{StateEmpty, "commit v5", kerr.InvalidTxnState, StateEmpty, 0},
		{StateEmpty, "abort v5", nil, StatePrepareAbort, 1},
		{StateEmpty, "timeout", nil, StateEmpty, 0},
		{StateEmpty, "expiration", nil, gone, 0},

		{StateOngoing, "InitProducerId", kerr.ConcurrentTransactions, StatePrepareAbort, 1},
		{StateOngoing, "AddPartitions", nil, StateOngoing, 0},
		{StateOngoing, "produce (v2)", nil, StateOngoing, 0},
		{StateOngoing, "commit", nil, StatePrepareCommit, 0},
		{StateOngoing, "abort", nil, StatePrepareAbort, 0},
		{StateOngoing, "commit v5", nil, StatePrepareCommit, 1},
		{StateOngoing, "abort v5", nil, StatePrepareAbort, 1},
		{StateOngoing, "timeout", nil, StatePrepareAbort, 1},
		{StateOngoing, "expiration", nil, StateOngoing, 0},

		{StatePrepareCommit, "InitProducerId", kerr.ConcurrentTransactions, StatePrepareCommit, 0},
		{StatePrepareCommit, "AddPartitions", kerr.ConcurrentTransactions, StatePrepareCommit, 0},
		{StatePrepareCommit, "produce (v2)", kerr.ConcurrentTransactions, StatePrepareCommit, 0},
		{StatePrepareCommit, "commit", kerr.ConcurrentTransactions, StatePrepareCommit, 0},
		{StatePrepareCommit, "abort", kerr.ConcurrentTransactions, StatePrepareCommit, 0},
		{StatePrepareCommit, "abort v5", kerr.ConcurrentTransactions, StatePrepareCommit, 0},
		{StatePrepareCommit, "markers", nil, StateCompleteCommit, 0},
		{StatePrepareCommit, "timeout", nil, StatePrepareCommit, 0},
		{StatePrepareCommit, "expiration", nil, StatePrepareCommit, 0},

		{StatePrepareAbort, "InitProducerId", kerr.ConcurrentTransactions, StatePrepareAbort, 0},
		{StatePrepareAbort, "AddPartitions", kerr.ConcurrentTransactions, StatePrepareAbort, 0},
		{StatePrepareAbort, "abort", kerr.ConcurrentTransactions, StatePrepareAbort, 0},
		{StatePrepareAbort, "commit", kerr.ConcurrentTransactions, StatePrepareAbort, 0},
		{StatePrepareAbort, "markers", nil, StateCompleteAbort, 0},

		{StateCompleteCommit, "InitProducerId", nil, StateEmpty, 1},
		{StateCompleteCommit, "AddPartitions", nil, StateOngoing, 0},
		{StateCompleteCommit, "produce (v2)", nil, StateOngoing, 0},
		{StateCompleteCommit, "commit", nil, StateCompleteCommit, 0},
		{StateCompleteCommit, "abort", kerr.InvalidTxnState, StateCompleteCommit, 0},
		{StateCompleteCommit, "commit v5", kerr.InvalidTxnState, StateCompleteCommit, 0},
		{StateCompleteCommit, "abort v5", nil, StatePrepareAbort, 1},
		{StateCompleteCommit, "markers", nil, StateCompleteCommit, 0},
		{StateCompleteCommit, "expiration", nil, gone, 0},

		{StateCompleteAbort, "InitProducerId", nil, StateEmpty, 1},
		{StateCompleteAbort, "AddPartitions", nil, StateOngoing, 0},
		{StateCompleteAbort, "abort", nil, StateCompleteAbort, 0},
		{StateCompleteAbort, "commit", kerr.InvalidTxnState, StateCompleteAbort, 0},
		{StateCompleteAbort, "abort v5", nil, StatePrepareAbort, 1},
		{StateCompleteAbort, "expiration", nil, gone, 0},
	} {
		t.Run(tc.from.String()+"/"+tc.op, func(t *testing.T) {
			h := newHarness(t)
			p := reach[tc.from](h)
			h.wantState("t", tc.from, p.pid, p.epoch)
			wantCode(t, tc.op, ops[tc.op](h, p), tc.want)
			if tc.to == gone {
				if st := h.state("t"); st.ErrorCode != kerr.TransactionalIDNotFound.Code {
					t.Fatalf("%s: not expired: %+v", tc.op, st)
				}
				return
			}
			h.wantState("t", tc.to, p.pid, p.epoch+tc.epoch)
			// And the state survives a restart.
			h.restart()
			h.wantState("t", tc.to, p.pid, p.epoch+tc.epoch)
		})
	}
}
