package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// newTxnListCommand is `weir txn list`.
func newTxnListCommand(conn *connection) *cobra.Command {
	var (
		states      []string
		producerIDs []int64
		duration    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "list [--state STATE]... [--producer-id ID]... [--duration D]",
		Short: "List the transactional ids with the state of their transaction and their producer id",
		Long: `List the transactional ids the cluster's transaction coordinators know, with
the state of their current or last transaction and their producer id.
--state keeps the ids in one of the states given, --producer-id those of one
of the producer ids given (repeat a flag or separate values with commas);
--duration those whose current or last transaction started longer ago than
that: --state Ongoing --duration 15m finds the transactions open for more
than 15 minutes.`,
		Example: `  weir txn list
  weir txn list --state Ongoing --duration 5m
  weir txn list --producer-id 1000 --output json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			filter, err := parseTxnFilter(states, producerIDs, duration, cmd.Flags().Changed("duration"))
			if err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			cl, _, ctx, done, err := conn.clientSession(cmd)
			if err != nil {
				return err
			}
			defer done()
			txns, listErr := listTransactions(ctx, cl, filter)
			if txns == nil {
				return listErr
			}
			if err := printTxnList(cmd.OutOrStdout(), conn, txns); err != nil {
				return err
			}
			return listErr
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&states, "state", nil, "only transactional ids in this state: "+strings.Join(txnStates, ", ")+" (case does not matter)")
	f.Int64SliceVar(&producerIDs, "producer-id", nil, "only transactional ids with this producer id")
	f.DurationVar(&duration, "duration", 0, "only transactional ids whose current or last transaction started longer ago than this: 30s, 5m, 1h30m")
	return cmd
}

// listedTxn is a transactional id as ListTransactions tells it, and an id
// in `weir txn list --output json`.
type listedTxn struct {
	TransactionalID string `json:"transactional_id"`
	State           string `json:"state"`
	ProducerID      int64  `json:"producer_id"`
	Coordinator     int32  `json:"coordinator"`
}

// txnFilter is what --state, --producer-id and --duration keep; the zero
// filter but for durationMillis -1 keeps everything.
type txnFilter struct {
	states      []string
	producerIDs []int64
	// durationMillis keeps transactions started more than that many
	// milliseconds ago; -1 keeps all.
	durationMillis int64
}

// parseTxnFilter checks the flags and writes the states as Kafka does
// ("Ongoing"), whatever their case. hasDuration tells whether --duration
// was given: 0 is a filter too (every transaction started).
func parseTxnFilter(states []string, producerIDs []int64, duration time.Duration, hasDuration bool) (txnFilter, error) {
	f := txnFilter{durationMillis: -1}
	for _, s := range states {
		name, ok := canonicalName(txnStates, s)
		if !ok {
			return txnFilter{}, fmt.Errorf("--state %q: want one of %s", s, strings.Join(txnStates, ", "))
		}
		if !slices.Contains(f.states, name) {
			f.states = append(f.states, name)
		}
	}
	for _, id := range producerIDs {
		if id < 0 {
			return txnFilter{}, fmt.Errorf("--producer-id %d: want a producer id, 0 or more", id)
		}
		f.producerIDs = append(f.producerIDs, id)
	}
	if hasDuration {
		if duration < 0 {
			return txnFilter{}, fmt.Errorf("--duration %v: want a duration, not negative", duration)
		}
		f.durationMillis = duration.Milliseconds()
	}
	return f, nil
}

// keeps reports whether the filter keeps t, as far as can be told from a
// listing: the duration is the broker's to apply.
func (f txnFilter) keeps(t listedTxn) bool {
	return (len(f.states) == 0 || slices.Contains(f.states, t.State)) &&
		(len(f.producerIDs) == 0 || slices.Contains(f.producerIDs, t.ProducerID))
}

// listTransactions asks every broker for the transactional ids it
// coordinates (ListTransactions) and returns those the filter keeps,
// sorted. It sends the request itself, as listGroups does: kadm's
// ListTransactions has no duration filter. The states and producer ids are
// checked here too; a broker that cannot filter by duration (before
// ListTransactions v1, Kafka 3.8) is an error, not a silently unfiltered
// list.
func listTransactions(ctx context.Context, cl *kgo.Client, filter txnFilter) ([]listedTxn, error) {
	req := kmsg.NewPtrListTransactionsRequest()
	req.StateFilters = filter.states
	req.ProducerIDFilters = filter.producerIDs
	req.DurationFilterMillis = filter.durationMillis
	var errs []error
	txns := []listedTxn{}
	seen := make(map[string]bool) // an id moving between coordinators may be listed by both
	shards := cl.RequestSharded(ctx, req)
	for _, shard := range shards {
		if shard.Err != nil {
			errs = append(errs, fmt.Errorf("list transactions of broker %d: %w", shard.Meta.NodeID, shard.Err))
			continue
		}
		if filter.durationMillis >= 0 && shard.Req.GetVersion() < 1 {
			errs = append(errs, fmt.Errorf("list transactions of broker %d: it cannot filter by --duration (ListTransactions v1, Kafka 3.8)", shard.Meta.NodeID))
			continue
		}
		resp := shard.Resp.(*kmsg.ListTransactionsResponse)
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			errs = append(errs, &kafkaError{fmt.Sprintf("list transactions of broker %d: %s", shard.Meta.NodeID, describeError(err, "")), err})
			continue
		}
		for _, s := range resp.TransactionStates {
			t := listedTxn{TransactionalID: s.TransactionalID, State: s.TransactionState, ProducerID: s.ProducerID, Coordinator: shard.Meta.NodeID}
			if filter.keeps(t) && !seen[t.TransactionalID] {
				seen[t.TransactionalID] = true
				txns = append(txns, t)
			}
		}
	}
	if len(errs) == len(shards) {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(txns, func(a, b listedTxn) int { return strings.Compare(a.TransactionalID, b.TransactionalID) })
	return txns, errors.Join(errs...)
}

func printTxnList(w io.Writer, conn *connection, txns []listedTxn) error {
	if conn.json() {
		return writeJSON(w, txns)
	}
	tab := newTable(w, "TRANSACTIONAL-ID", "STATE", "PRODUCER-ID")
	for _, t := range txns {
		tab.row(t.TransactionalID, t.State, t.ProducerID)
	}
	return tab.flush()
}
