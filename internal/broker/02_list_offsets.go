package broker

// ListOffsets (key 2), versions 1-7.
//
// Per partition: timestamp -2 (earliest) gives the log start offset; -1
// (latest) the high watermark, or the last stable offset for read_committed;
// -3 (max timestamp, KIP-734, version 7) the offset of the first record
// carrying the partition's largest timestamp; any other timestamp T the
// first offset whose record timestamp is at least T, with that timestamp,
// or offset -1 and timestamp -1 when no record is that recent.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) listOffsetsHandler() handler {
	return handler{key: kmsg.ListOffsets.Int16(), min: 1, max: 7, serve: b.listOffsets}
}

func (b *Broker) listOffsets(_ context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Offset, sp.Timestamp = -1, -1
			p, err := b.engine.Partition(rt.Topic, rp.Partition)
			if err != nil {
				sp.ErrorCode = errorCode(err)
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			off := p.Offsets()
			switch rp.Timestamp {
			case -2:
				sp.Offset = off.LogStart
			case -1:
				sp.Offset = off.HighWatermark
				if req.IsolationLevel == 1 {
					sp.Offset = off.LastStable
				}
			case -3:
				if req.Version < 7 {
					sp.ErrorCode = kerr.UnsupportedVersion.Code
					break
				}
				if o, ts, ok, err := p.MaxTimestamp(); err != nil {
					sp.ErrorCode = errorCode(err)
				} else if ok {
					sp.Offset, sp.Timestamp = o, ts
				}
			default:
				if o, ts, ok, err := p.OffsetForTime(rp.Timestamp); err != nil {
					sp.ErrorCode = errorCode(err)
				} else if ok {
					sp.Offset, sp.Timestamp = o, ts
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
