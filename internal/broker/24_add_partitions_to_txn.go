package broker

// AddPartitionsToTxn (key 24), versions 0-5: a transactional producer adds
// partitions to its transaction before it writes to them (0-3); partition
// leaders verify or add them in batches (4-5). Package txn decides; the
// answer waits for its record in __transaction_state.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/txn"
)

func (b *Broker) addPartitionsToTxnHandler() handler {
	return handler{key: kmsg.AddPartitionsToTxn.Int16(), min: 0, max: 5, serve: b.addPartitionsToTxn}
}

func (b *Broker) addPartitionsToTxn(ctx context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.AddPartitionsToTxnRequest)
	return b.txnDo(ctx, func() *txn.Write { return b.txn.AddPartitionsToTxn(time.Now(), req) }).Response, nil
}
