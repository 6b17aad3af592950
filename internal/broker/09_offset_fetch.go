package broker

// OffsetFetch (key 9), versions 0-10.
//
// One group (v0-7) or several (v8+); all the group's offsets when no
// topics are named (v2+); a partition without a commit has offset -1.
// From v9 a KIP-848 member's id and epoch are checked; v10 names topics
// by id. require_stable (v7+) is accepted: there are no transactional
// offsets pending yet, so every offset is stable.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) offsetFetchHandler() handler {
	return handler{key: kmsg.OffsetFetch.Int16(), min: 0, max: 10, serve: b.offsetFetch}
}

func (b *Broker) offsetFetch(_ context.Context, r *request) (kmsg.Response, error) {
	return b.groups.FetchOffsets(r.body.(*kmsg.OffsetFetchRequest)), nil
}
