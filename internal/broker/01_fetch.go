package broker

// Fetch (key 1), versions 4-12 (topics by name; 13 and later name them by
// id).
//
// For each partition, the batches from the one holding the fetch offset,
// up to partition_max_bytes, and up to max_bytes in all; the first batch of
// the response is sent whole even when larger (KIP-74), so that a consumer
// always progresses. An offset below the log start or above the high
// watermark is OFFSET_OUT_OF_RANGE. When fewer than min_bytes are
// available the request waits, up to max_wait_ms, for a produce to bring
// more (long poll). Fetch sessions (KIP-227) are declined, as the protocol
// allows: the response's session id is 0, so clients send full fetches; a
// request naming a session id gets FETCH_SESSION_ID_NOT_FOUND. Both
// isolation levels are accepted; without transactions the last stable
// offset is the high watermark.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/storage"
)

func (b *Broker) fetchHandler() handler {
	return handler{key: kmsg.Fetch.Int16(), min: 4, max: 12, serve: b.fetch}
}

func (b *Broker) fetch(ctx context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.FetchRequest)
	if req.SessionID != 0 {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return resp, nil
	}
	deadline := time.NewTimer(time.Duration(max(req.MaxWaitMillis, 0)) * time.Millisecond)
	defer deadline.Stop()
	for {
		// Take the wake-up channel before reading, so that a produce
		// landing in between is not missed.
		more := b.dataArrival()
		resp, size := b.fetchOnce(req)
		if size >= int(req.MinBytes) || hasError(resp) {
			return resp, nil
		}
		select {
		case <-more:
		case <-deadline.C:
			resp, _ = b.fetchOnce(req)
			return resp, nil
		case <-ctx.Done():
			return resp, nil
		}
	}
}

// fetchOnce reads what is there now, and returns the response and the
// bytes of records in it.
func (b *Broker) fetchOnce(req *kmsg.FetchRequest) (*kmsg.FetchResponse, int) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	budget := int(req.MaxBytes)
	if req.Version < 3 || budget <= 0 {
		budget = int(^uint32(0) >> 1)
	}
	total := 0
	for _, rt := range req.Topics {
		st := kmsg.NewFetchResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.RecordBatches = []byte{}
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
			p, err := b.engine.Partition(rt.Topic, rp.Partition)
			if err != nil {
				sp.ErrorCode = errorCode(err)
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			limit := min(int(rp.PartitionMaxBytes), budget-total)
			if limit <= 0 && total > 0 {
				off := p.Offsets()
				sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = off.HighWatermark, off.LastStable, off.LogStart
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			read, err := p.Read(rp.FetchOffset, max(limit, 1))
			if err != nil && !errors.Is(err, storage.ErrOffsetOutOfRange) {
				sp.ErrorCode = errorCode(err)
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			if err != nil {
				sp.ErrorCode = kerr.OffsetOutOfRange.Code
				off := p.Offsets()
				read.HighWatermark, read.LastStable, read.LogStart = off.HighWatermark, off.LastStable, off.LogStart
			}
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = read.HighWatermark, read.LastStable, read.LogStart
			// Never null: librdkafka rejects a null records field, and
			// Kafka sends an empty one.
			sp.RecordBatches = read.Records
			if sp.RecordBatches == nil {
				sp.RecordBatches = []byte{}
			}
			total += len(read.Records)
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, total
}

// hasError reports whether a partition of the response carries an error,
// which the client should see without waiting.
func hasError(resp *kmsg.FetchResponse) bool {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				return true
			}
		}
	}
	return false
}
