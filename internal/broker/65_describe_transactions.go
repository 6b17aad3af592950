package broker

// DescribeTransactions (key 65), version 0, and ListTransactions (key 66),
// versions 0-2: the transaction coordinator's transactional ids, their
// state, producer, timeout and partitions.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) describeTransactionsHandler() handler {
	return handler{key: kmsg.DescribeTransactions.Int16(), min: 0, max: 0, serve: b.describeTransactions}
}

func (b *Broker) describeTransactions(_ context.Context, r *request) (kmsg.Response, error) {
	return b.txn.DescribeTransactions(r.body.(*kmsg.DescribeTransactionsRequest)), nil
}

func (b *Broker) listTransactionsHandler() handler {
	return handler{key: kmsg.ListTransactions.Int16(), min: 0, max: 2, serve: b.listTransactions}
}

func (b *Broker) listTransactions(_ context.Context, r *request) (kmsg.Response, error) {
	return b.txn.ListTransactions(time.Now(), r.body.(*kmsg.ListTransactionsRequest)), nil
}
