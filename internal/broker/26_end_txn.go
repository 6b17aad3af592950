package broker

// EndTxn (key 26), versions 0-5: commit or abort. The decision is written
// to __transaction_state, then the markers into every partition of the
// transaction, before the answer. Version 5 (transactions version 2,
// advertised when it is finalized: txn_version.go) bumps the producer's
// epoch with every commit or abort and answers the new one.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/txn"
)

func (b *Broker) endTxnHandler() handler {
	return handler{key: kmsg.EndTxn.Int16(), min: 0, max: b.txnVersioned(5, 4), serve: b.endTxn}
}

func (b *Broker) endTxn(ctx context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.EndTxnRequest)
	return b.txnDo(ctx, func() *txn.Write { return b.txn.EndTxn(time.Now(), req) }).Response, nil
}
