package broker

// TxnOffsetCommit (key 28), versions 0-4: a transactional producer commits
// a group's offsets in its transaction. The transaction coordinator checks
// that the group's offsets were added (AddOffsetsToTxn); the group
// coordinator checks the member and stages the offsets, written to
// __consumer_offsets in a transactional batch of the producer; the
// transaction's marker there applies or drops them.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/group"
)

func (b *Broker) txnOffsetCommitHandler() handler {
	return handler{key: kmsg.TxnOffsetCommit.Int16(), min: 0, max: 4, serve: b.txnOffsetCommit}
}

func (b *Broker) txnOffsetCommit(ctx context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.TxnOffsetCommitRequest)
	if err := b.txn.VerifyTxnOffsetCommit(req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group); err != nil {
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
		return resp, nil
	}
	var tc *group.TxnCommit
	prepare := func() []group.Record {
		tc = b.groups.PrepareTxnOffsetCommit(time.Now(), req)
		return tc.Records
	}
	finish := func(code int16) { b.groups.FinishTxnOffsetCommit(tc, code) }
	if code := b.loggedAs(ctx, req.ProducerID, req.ProducerEpoch, prepare, finish); code != 0 {
		tc.Fail(code)
	}
	return tc.Response, nil
}
