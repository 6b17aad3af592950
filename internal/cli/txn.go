package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// NewTxnCommand returns `weir txn`: list and describe the transactional ids
// the cluster's transaction coordinators know, with the state of their
// current or last transaction (ListTransactions, DescribeTransactions).
func NewTxnCommand() *cobra.Command {
	conn := &connection{}
	cmd := newParentCommand("txn", "List and describe transactions")
	conn.addFlags(cmd)
	cmd.AddCommand(
		newTxnListCommand(conn),
		newTxnDescribeCommand(conn),
	)
	return cmd
}

// txnStates are the states --state accepts: Kafka's names of the states
// of a transactional id, as ListTransactions and DescribeTransactions
// report them.
var txnStates = kmsg.TransactionStateStrings()

// txnError describes the error a request about one transactional id
// returned. action names the request ("describe", ...).
func txnError(action, id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.TransactionalIDNotFound):
		return &kafkaError{fmt.Sprintf("transactional id %s does not exist", id), err}
	}
	return &kafkaError{fmt.Sprintf("%s transactional id %s: %s", action, id, describeError(err, "")), err}
}

// formatMillisTime writes a Kafka timestamp (Unix milliseconds) in RFC 3339
// with milliseconds, in UTC; "-" for a negative one (none).
func formatMillisTime(ms int64) string {
	if ms < 0 {
		return "-"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// formatAge writes how long before now the Unix millisecond ms was: to the
// millisecond under a second, to the second above; never negative (a clock
// behind the broker's).
func formatAge(now time.Time, ms int64) string {
	d := max(now.Sub(time.UnixMilli(ms)), 0)
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
