package txn

import (
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeTransactions answers DescribeTransactions, version 0: for each
// transactional id its state, producer id and epoch, timeout, start, and
// the partitions of its transaction (while it completes, those whose
// markers are not yet written). An unknown id is
// TRANSACTIONAL_ID_NOT_FOUND, an empty one INVALID_REQUEST.
func (c *Coordinator) DescribeTransactions(req *kmsg.DescribeTransactionsRequest) *kmsg.DescribeTransactionsResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	for _, id := range req.TransactionalIDs {
		st := kmsg.NewDescribeTransactionsResponseTransactionState()
		st.TransactionalID = id
		e := c.txns[id]
		switch {
		case id == "":
			st.ErrorCode = kerr.InvalidRequest.Code
		case e == nil || e.unborn():
			st.ErrorCode = kerr.TransactionalIDNotFound.Code
		default:
			st.State = e.meta.state.String()
			st.TimeoutMillis = e.meta.timeoutMs
			st.StartTimestamp = e.meta.startMs
			st.ProducerID, st.ProducerEpoch = e.meta.producerID, e.meta.epoch
			partitions := e.meta.partitions
			if e.meta.preparing() {
				partitions = slices.SortedFunc(maps.Keys(e.unmarked), TopicPartition.compare)
			}
			for _, tp := range partitions {
				if n := len(st.Topics); n == 0 || st.Topics[n-1].Topic != tp.Topic {
					t := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
					t.Topic = tp.Topic
					st.Topics = append(st.Topics, t)
				}
				last := &st.Topics[len(st.Topics)-1]
				last.Partitions = append(last.Partitions, tp.Partition)
			}
		}
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return resp
}

// unborn reports whether the id's first record is still being written:
// requests see it (they wait), descriptions do not.
func (e *entry) unborn() bool { return e.pending != nil && e.pending.created }

// ListTransactions answers ListTransactions, versions 0-2: the
// transactional ids, sorted, filtered by state names (those Kafka does not
// know are returned as unknown), by producer ids, by duration (version 1+:
// transactions started more than that many milliseconds before now; ids
// without a transaction started are left out) and by a regular expression
// (version 2+: RE2, matching the whole id; INVALID_REGULAR_EXPRESSION when
// it does not compile).
func (c *Coordinator) ListTransactions(now time.Time, req *kmsg.ListTransactionsRequest) *kmsg.ListTransactionsResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	var pattern *regexp.Regexp
	if req.Version >= 2 && req.TransactionalIDPattern != nil && *req.TransactionalIDPattern != "" {
		var err error
		if pattern, err = regexp.Compile(`^(?:` + *req.TransactionalIDPattern + `)$`); err != nil {
			resp.ErrorCode = kerr.InvalidRegularExpression.Code
			return resp
		}
	}
	states := make(map[State]bool)
	for _, name := range req.StateFilters {
		if s, ok := stateNamed(name); ok {
			states[s] = true
		} else {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, name)
		}
	}
	if len(req.StateFilters) > 0 && len(states) == 0 {
		return resp // only unknown states: nothing matches
	}
	duration := int64(-1)
	if req.Version >= 1 {
		duration = req.DurationFilterMillis
	}
	nowMs := millis(now)
	for _, id := range slices.Sorted(maps.Keys(c.txns)) {
		e := c.txns[id]
		switch {
		case e.unborn():
		case len(states) > 0 && !states[e.meta.state]:
		case len(req.ProducerIDFilters) > 0 && !slices.Contains(req.ProducerIDFilters, e.meta.producerID):
		case duration >= 0 && (e.meta.startMs < 0 || nowMs-e.meta.startMs <= duration):
		case pattern != nil && !pattern.MatchString(id):
		default:
			st := kmsg.NewListTransactionsResponseTransactionState()
			st.TransactionalID, st.ProducerID, st.TransactionState = id, e.meta.producerID, e.meta.state.String()
			resp.TransactionStates = append(resp.TransactionStates, st)
		}
	}
	return resp
}

// stateNamed returns the state of a name as Kafka writes it (exactly).
func stateNamed(name string) (State, bool) {
	for s := StateEmpty; s <= StatePrepareEpochFence; s++ {
		if s.String() == name {
			return s, true
		}
	}
	return 0, false
}
