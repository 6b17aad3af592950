package broker

// OffsetCommit (key 8), versions 0-10.
//
// The coordinator checks the member (generation, or epoch for a KIP-848
// group), the topics (UNKNOWN_TOPIC_OR_PARTITION; UNKNOWN_TOPIC_ID from
// v10, which names topics by id) and the metadata size; the accepted
// offsets are written to __consumer_offsets and take effect once durable,
// and only then is the commit answered.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) offsetCommitHandler() handler {
	return handler{key: kmsg.OffsetCommit.Int16(), min: 0, max: 10, serve: b.offsetCommit}
}

func (b *Broker) offsetCommit(ctx context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.OffsetCommitRequest)
	now := time.Now()
	commit := b.groups.PrepareOffsetCommit(now, req)
	code := int16(0)
	if err := b.offsets.write(context.WithoutCancel(ctx), now, commit.Records); err != nil {
		b.logger.Error("writing offset commits failed", "group", req.Group, "err", err)
		code = groupStorageError(err)
	}
	b.groups.FinishOffsetCommit(commit, code)
	return commit.Response, nil
}
