package broker

// InitProducerId (key 22), versions 0-5.
//
// Without a transactional id: a new producer id (epoch 0) for an
// idempotent producer, or, with the producer id and epoch it had (KIP-360,
// v3+), the same id at the next epoch. Producer ids come in blocks
// recorded in __transaction_state, so that none is handed out twice, even
// across restarts. Sequence numbers are then checked per partition by the
// storage engine (docs/storage.md). With a transactional id: the id's
// producer id at its next epoch, fencing older producers of the id; an
// ongoing transaction is aborted first (CONCURRENT_TRANSACTIONS until its
// markers are written).

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/txn"
)

func (b *Broker) initProducerIDHandler() handler {
	return handler{key: kmsg.InitProducerID.Int16(), min: 0, max: 5, serve: b.initProducerID}
}

func (b *Broker) initProducerID(ctx context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.InitProducerIDRequest)
	w := b.txnDo(ctx, func() *txn.Write { return b.txn.InitProducerID(time.Now(), req) })
	return w.Response, nil
}
