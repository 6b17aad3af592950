package broker

// EndTxn (key 26), versions 0-4: commit or abort. The decision is written
// to __transaction_state, then the markers into every partition of the
// transaction, before the answer. (Version 5, transactions version 2 with
// an epoch bump per transaction, is not advertised yet.)

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/txn"
)

func (b *Broker) endTxnHandler() handler {
	return handler{key: kmsg.EndTxn.Int16(), min: 0, max: 4, serve: b.endTxn}
}

func (b *Broker) endTxn(ctx context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.EndTxnRequest)
	return b.txnDo(ctx, func() *txn.Write { return b.txn.EndTxn(time.Now(), req) }).Response, nil
}
