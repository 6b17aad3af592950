package broker

// TxnOffsetCommit (key 28), versions 0-5: a transactional producer commits
// a group's offsets in its transaction. The transaction coordinator checks
// that the group's offsets partition is in the transaction: added by
// AddOffsetsToTxn, or from version 5 (transactions version 2:
// txn_version.go) by the request itself, durably, before anything else.
// The group coordinator checks the member and stages the offsets, written
// to __consumer_offsets in a transactional batch of the producer; the
// transaction's marker there applies or drops them. The check and the
// staging happen under offsetsMu, as the marker's append does, so that
// offsets checked while the transaction was ongoing precede its marker.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/group"
	"github.com/weir-io/weir/internal/txn"
)

func (b *Broker) txnOffsetCommitHandler() handler {
	return handler{key: kmsg.TxnOffsetCommit.Int16(), min: 0, max: b.txnVersioned(5, 4), serve: b.txnOffsetCommit}
}

func (b *Broker) txnOffsetCommit(ctx context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.TxnOffsetCommitRequest)
	if req.Version >= 5 {
		tp := b.txn.OffsetsPartition(req.Group)
		w := b.txnLogged(ctx, func() *txn.Write {
			return b.txn.AddToTransaction(time.Now(), req.TransactionalID, req.ProducerID, req.ProducerEpoch, []txn.TopicPartition{tp})
		})
		if w.Err != nil {
			return txnOffsetCommitError(req, w.Err), nil
		}
	}
	var (
		tc       *group.TxnCommit
		verified error
	)
	prepare := func() []group.Record {
		verified = b.txn.VerifyTxnOffsetCommit(req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group)
		if verified != nil {
			return nil
		}
		tc = b.groups.PrepareTxnOffsetCommit(time.Now(), req)
		return tc.Records
	}
	finish := func(code int16) {
		if tc != nil {
			b.groups.FinishTxnOffsetCommit(tc, code)
		}
	}
	code := b.loggedAs(ctx, req.ProducerID, req.ProducerEpoch, prepare, finish)
	if verified != nil {
		return txnOffsetCommitError(req, verified), nil
	}
	if code != 0 {
		tc.Fail(code)
	}
	return tc.Response, nil
}

// txnOffsetCommitError answers every partition of a request with the
// error of the transaction coordinator.
func txnOffsetCommitError(req *kmsg.TxnOffsetCommitRequest, err error) *kmsg.TxnOffsetCommitResponse {
	code := kerr.UnknownServerError.Code
	var ke *kerr.Error
	if errors.As(err, &ke) {
		code = ke.Code
	}
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, t := range req.Topics {
		st := kmsg.NewTxnOffsetCommitResponseTopic()
		st.Topic = t.Topic
		for _, p := range t.Partitions {
			sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			sp.Partition, sp.ErrorCode = p.Partition, code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
