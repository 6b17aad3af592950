package broker

// AddOffsetsToTxn (key 25), versions 0-4: a transactional producer adds a
// group's offsets (its __consumer_offsets partition) to its transaction,
// before TxnOffsetCommit.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/txn"
)

func (b *Broker) addOffsetsToTxnHandler() handler {
	return handler{key: kmsg.AddOffsetsToTxn.Int16(), min: 0, max: 4, serve: b.addOffsetsToTxn}
}

func (b *Broker) addOffsetsToTxn(ctx context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.AddOffsetsToTxnRequest)
	return b.txnDo(ctx, func() *txn.Write { return b.txn.AddOffsetsToTxn(time.Now(), req) }).Response, nil
}
