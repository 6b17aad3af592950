package broker

// OffsetCommit (key 8), versions 0-10.
//
// The coordinator checks the member (generation, or epoch for a KIP-848
// group), the topics (UNKNOWN_TOPIC_OR_PARTITION; UNKNOWN_TOPIC_ID from
// v10, which names topics by id) and the metadata size. The accepted
// offsets are appended to __consumer_offsets and take effect in the order
// of the log (groups.go, logged); the commit is answered once they are
// durable.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/group"
)

func (b *Broker) offsetCommitHandler() handler {
	return handler{key: kmsg.OffsetCommit.Int16(), min: 0, max: 10, serve: b.offsetCommit}
}

func (b *Broker) offsetCommit(ctx context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.OffsetCommitRequest)
	var commit *group.Commit
	prepare := func() []group.Record {
		commit = b.groups.PrepareOffsetCommit(time.Now(), req)
		return commit.Records
	}
	finish := func(code int16) { b.groups.FinishOffsetCommit(commit, code) }
	if code := b.logged(ctx, prepare, finish); code != 0 {
		commit.Fail(code)
	}
	return commit.Response, nil
}
