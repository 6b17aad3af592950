package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// newTxnDescribeCommand is `weir txn describe`.
func newTxnDescribeCommand(conn *connection) *cobra.Command {
	return &cobra.Command{
		Use:   "describe TXN_ID...",
		Short: "Show transactional ids' state, producer id and epoch, timeout, start and partitions",
		Long: `Show each transactional id's current or last transaction: its state, the
producer id and epoch that own the id, the transaction timeout the producer
asked for, when the transaction started, and the partitions in it (while it
commits or aborts, those whose markers are not yet written).`,
		Example: `  weir txn describe orders-writer
  weir txn describe orders-writer --output json | jq '.[0].partitions'`,
		Args: minArgs(1, "at least one transactional id"),
		RunE: func(cmd *cobra.Command, ids []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			for _, id := range ids {
				if id == "" {
					return usageErrorf(cmd, "a transactional id may not be empty")
				}
			}
			adm, ctx, done, err := conn.adminSession(cmd)
			if err != nil {
				return err
			}
			defer done()
			ids = dedupe(ids)
			described, err := adm.DescribeTransactions(ctx, ids...)
			txns, errs := describedTxns(ids, described, err)
			if err := printDescribedTxns(cmd.OutOrStdout(), conn, time.Now(), txns); err != nil {
				return err
			}
			return errors.Join(errs...)
		},
	}
}

// describedTxn is a transactional id in `weir txn describe --output json`.
type describedTxn struct {
	TransactionalID string `json:"transactional_id"`
	State           string `json:"state"`
	ProducerID      int64  `json:"producer_id"`
	ProducerEpoch   int16  `json:"producer_epoch"`
	TimeoutMillis   int32  `json:"timeout_ms"`
	// StartTimestamp is when the current or last transaction started, in
	// Unix milliseconds; nil when none has.
	StartTimestamp *int64 `json:"start_timestamp"`
	Coordinator    int32  `json:"coordinator"`
	// Partitions are the partitions in the transaction, by topic.
	Partitions []assignedTopic `json:"partitions"`
}

// describedTxns returns the ids described, in the order named, and an
// error for each that does not exist or could not be described. err is
// what DescribeTransactions returned with described.
func describedTxns(ids []string, described kadm.DescribedTransactions, err error) ([]describedTxn, []error) {
	out := []describedTxn{}
	var errs []error
	for _, id := range ids {
		d, ok := described[id]
		switch {
		case !ok && err != nil:
			errs = append(errs, txnError("describe", id, err))
		case !ok:
			errs = append(errs, txnError("describe", id, errors.New("no answer")))
		case d.Err != nil:
			errs = append(errs, txnError("describe", id, d.Err))
		default:
			out = append(out, fromDescribedTransaction(d))
		}
	}
	return out, errs
}

func fromDescribedTransaction(d kadm.DescribedTransaction) describedTxn {
	t := describedTxn{
		TransactionalID: d.TxnID, State: d.State, ProducerID: d.ProducerID, ProducerEpoch: d.ProducerEpoch,
		TimeoutMillis: d.TimeoutMillis, Coordinator: d.Coordinator, Partitions: assignedTopics(d.Topics),
	}
	if d.StartTimestamp >= 0 {
		start := d.StartTimestamp
		t.StartTimestamp = &start
	}
	return t
}

// printDescribedTxns writes each id's head and the partitions of its
// transaction; now is what the start's age is reckoned from.
func printDescribedTxns(w io.Writer, conn *connection, now time.Time, txns []describedTxn) error {
	if conn.json() {
		return writeJSON(w, txns)
	}
	for i, t := range txns {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := printTxnHead(w, now, t); err != nil {
			return err
		}
		if len(t.Partitions) > 0 {
			fmt.Fprintln(w)
			tab := newTable(w, "TOPIC", "PARTITIONS")
			for _, p := range t.Partitions {
				tab.row(p.Topic, joinInts(p.Partitions))
			}
			if err := tab.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func printTxnHead(w io.Writer, now time.Time, t describedTxn) error {
	started := "-"
	if t.StartTimestamp != nil {
		started = fmt.Sprintf("%s (%s ago)", formatMillisTime(*t.StartTimestamp), formatAge(now, *t.StartTimestamp))
	}
	partitions := 0
	for _, p := range t.Partitions {
		partitions += len(p.Partitions)
	}
	head := newTable(w)
	head.row("Transactional ID:", t.TransactionalID)
	head.row("State:", t.State)
	head.row("Producer ID:", t.ProducerID)
	head.row("Producer epoch:", t.ProducerEpoch)
	head.row("Timeout:", time.Duration(t.TimeoutMillis)*time.Millisecond)
	head.row("Started:", started)
	head.row("Coordinator:", t.Coordinator)
	head.row("Partitions:", partitions)
	return head.flush()
}
