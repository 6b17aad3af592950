package broker

// Fetch (key 1), versions 4-12 (topics by name; 13 and later name them by
// id).
//
// For each partition, the batches from the one holding the fetch offset,
// up to partition_max_bytes, and up to max_bytes in all; the first batch of
// the response is sent whole even when larger (KIP-74), so that a consumer
// always progresses. An offset below the log start or above the high
// watermark is OFFSET_OUT_OF_RANGE. When fewer than min_bytes are
// available the request waits, up to max_wait_ms, for more to become
// readable (long poll; arrival.go says when it wakes). From version 7,
// fetch sessions (KIP-227) let clients send only what changed and get only
// what is new: fetch_sessions.go.
// With isolation_level 1 (read_committed) a partition is read up to its
// last stable offset instead of its high watermark, and the response
// lists the aborted transactions of the range read, for the client to
// skip their records (storage.ReadCommitted).

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
	plan, code := b.sessions.begin(req, time.Now())
	if code != 0 {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = code
		return resp, nil
	}
	deadline := time.NewTimer(time.Duration(max(req.MaxWaitMillis, 0)) * time.Millisecond)
	defer deadline.Stop()
	f := b.longPoll(ctx, req, plan.targets, deadline.C)
	// The records stay in the storage's buffers until the response is
	// encoded (frames.go).
	r.afterEncode = append(r.afterEncode, f.release)
	f.resp.SessionID = b.sessions.finish(plan, f.resp)
	return f.resp, nil
}

// fetched is a response being built and the reads it refers to.
type fetched struct {
	resp      *kmsg.FetchResponse
	size      int // bytes of records
	reads     []storage.ReadResult
	committed bool // read_committed
}

// release gives the reads' buffers back; the response's records are
// invalid after.
func (f *fetched) release() {
	for i := range f.reads {
		f.reads[i].Release()
	}
	f.reads = nil
}

// longPoll reads the targets until min_bytes are there, an error is to
// be reported, the deadline passes or the connection ends.
func (b *Broker) longPoll(ctx context.Context, req *kmsg.FetchRequest, targets []fetchTarget, deadline <-chan time.Time) *fetched {
	for {
		// Take the wake-up channel before reading, so that a produce
		// landing in between is not missed.
		more := b.dataArrival()
		f := b.fetchOnce(req, targets)
		if f.size >= int(req.MinBytes) || hasError(f.resp) {
			return f
		}
		select {
		case <-more:
			f.release()
		case <-deadline:
			f.release()
			return b.fetchOnce(req, targets)
		case <-ctx.Done():
			return f
		}
	}
}

// fetchOnce reads what is there now.
func (b *Broker) fetchOnce(req *kmsg.FetchRequest, targets []fetchTarget) *fetched {
	f := &fetched{resp: req.ResponseKind().(*kmsg.FetchResponse), committed: req.IsolationLevel == 1}
	budget := int(req.MaxBytes)
	if budget <= 0 {
		budget = int(^uint32(0) >> 1)
	}
	for _, t := range targets {
		if n := len(f.resp.Topics); n == 0 || f.resp.Topics[n-1].Topic != t.topic {
			st := kmsg.NewFetchResponseTopic()
			st.Topic = t.topic
			f.resp.Topics = append(f.resp.Topics, st)
		}
		st := &f.resp.Topics[len(f.resp.Topics)-1]
		st.Partitions = append(st.Partitions, b.fetchPartition(f, t, budget-f.size, f.size > 0))
	}
	return f
}

// fetchPartition reads one partition with at most budget bytes, or one
// batch whatever its size when nothing was read before it (KIP-74), and
// returns its part of the response; the read joins f.
func (b *Broker) fetchPartition(f *fetched, t fetchTarget, budget int, readBefore bool) kmsg.FetchResponseTopicPartition {
	sp := kmsg.NewFetchResponseTopicPartition()
	sp.Partition = t.partition
	// Never null: librdkafka rejects a null records field, and Kafka
	// sends an empty one.
	sp.RecordBatches = []byte{}
	sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
	p, err := b.engine.Partition(t.topic, t.partition)
	if err != nil {
		sp.ErrorCode = errorCode(err)
		return sp
	}
	limit := min(int(t.maxBytes), budget)
	if limit <= 0 && readBefore {
		off := p.Offsets()
		sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = off.HighWatermark, off.LastStable, off.LogStart
		return sp
	}
	read := p.Read
	if f.committed {
		read = p.ReadCommitted
	}
	res, err := read(t.offset, max(limit, 1))
	if err != nil && !errors.Is(err, storage.ErrOffsetOutOfRange) {
		sp.ErrorCode = errorCode(err)
		return sp
	}
	if err != nil {
		sp.ErrorCode = kerr.OffsetOutOfRange.Code
		off := p.Offsets()
		res.HighWatermark, res.LastStable, res.LogStart = off.HighWatermark, off.LastStable, off.LogStart
	}
	sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = res.HighWatermark, res.LastStable, res.LogStart
	if f.committed {
		sp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
		for _, a := range res.Aborted {
			sp.AbortedTransactions = append(sp.AbortedTransactions, kmsg.FetchResponseTopicPartitionAbortedTransaction{ProducerID: a.ProducerID, FirstOffset: a.FirstOffset})
		}
	}
	if res.Records != nil {
		sp.RecordBatches = res.Records
		f.size += len(res.Records)
		f.reads = append(f.reads, res)
	}
	return sp
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
