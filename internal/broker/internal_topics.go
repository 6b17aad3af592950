package broker

// The broker's internal topics: compacted, one partition, written only by
// the broker (a coordinator's durable state), readable by clients.

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/group"
	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage"
	"github.com/weir-io/weir/internal/txn"
)

// transactionalAttribute is the batch attribute bit of transactional
// batches.
const transactionalAttribute = 0x10

// plainRecords adapts a coordinator's Replay, which takes only the
// records of plain batches.
func plainRecords(apply func(key, value []byte) error) func(h recordbatch.Header, key, value []byte) error {
	return func(h recordbatch.Header, key, value []byte) error {
		if h.Control() || h.Transactional() {
			return nil
		}
		return apply(key, value)
	}
}

// storageResult is where an append of an internal topic went.
type storageResult = storage.AppendResult

// internalTopic reports whether a topic is the broker's own: clients may
// read it, not write, delete or grow it.
func internalTopic(name string) bool { return name == group.OffsetsTopic || name == txn.StateTopic }

// internalRecord is one record of an internal topic; a nil Value is a
// tombstone.
type internalRecord struct{ Key, Value []byte }

// internalLog is the partition of an internal topic.
type internalLog struct {
	partition *storage.Partition
	engine    *storage.Engine
}

// openInternalLog opens an internal topic's partition, creating the topic
// (compacted, one partition) on the first start.
func openInternalLog(engine *storage.Engine, topic string) (*internalLog, error) {
	if _, err := engine.Topic(topic); errors.Is(err, storage.ErrUnknownTopicOrPartition) {
		config, err := engine.TopicDefaults().WithOverrides(map[string]string{"cleanup.policy": "compact"})
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", topic, err)
		}
		if _, err := engine.CreateTopic(topic, 1, config); err != nil {
			return nil, fmt.Errorf("create %s: %w", topic, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("open %s: %w", topic, err)
	}
	p, err := engine.Partition(topic, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", topic, err)
	}
	return &internalLog{partition: p, engine: engine}, nil
}

// append appends records as one batch; it does not wait for the batch to
// be durable.
func (l *internalLog) append(now time.Time, records []internalRecord) (storage.AppendResult, error) {
	return l.appendAs(now, records, -1, -1)
}

// appendAs appends records as one batch of producerID at epoch: a
// transactional batch (a TxnOffsetCommit's offsets) when producerID >= 0.
func (l *internalLog) appendAs(now time.Time, records []internalRecord, producerID int64, epoch int16) (storage.AppendResult, error) {
	rs := make([]kmsg.Record, len(records))
	for i, r := range records {
		rs[i] = kmsg.Record{OffsetDelta: int32(i), Key: r.Key, Value: r.Value}
	}
	ms := now.UnixMilli()
	h := recordbatch.Header{
		LastOffsetDelta: int32(len(rs) - 1),
		BaseTimestamp:   ms, MaxTimestamp: ms,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
	}
	if producerID >= 0 {
		// Transactional, without a sequence: the coordinator orders
		// these writes, not the producer.
		h.Attributes, h.ProducerID, h.ProducerEpoch = transactionalAttribute, producerID, epoch
	}
	batch, err := recordbatch.Build(h, rs)
	if err != nil {
		return storage.AppendResult{}, err
	}
	return l.partition.Append(batch)
}

// replay feeds every record of the partition to apply, in order, with its
// batch's header (transactional batches and markers included). Records
// apply cannot take are logged and skipped.
func (l *internalLog) replay(apply func(h recordbatch.Header, key, value []byte) error, logf func(msg string, args ...any)) (int, error) {
	offsets := l.partition.Offsets()
	n := 0
	for next := offsets.LogStart; next < offsets.HighWatermark; {
		res, err := l.partition.Read(next, 1<<20)
		if err != nil {
			return n, fmt.Errorf("read %s at %d: %w", l.partition.Topic(), next, err)
		}
		batches, err := recordbatch.Split(res.Records)
		if err != nil || len(batches) == 0 {
			res.Release()
			return n, fmt.Errorf("read %s at %d: %d batches: %v", l.partition.Topic(), next, len(batches), err)
		}
		for _, b := range batches {
			h, records, err := recordbatch.Records(b, 64<<20)
			if err != nil {
				res.Release()
				return n, fmt.Errorf("read %s at %d: %w", l.partition.Topic(), next, err)
			}
			for _, r := range records {
				if h.BaseOffset+int64(r.OffsetDelta) < next {
					continue
				}
				if err := apply(h, r.Key, r.Value); err != nil {
					logf("skipped a record of an internal topic", "topic", l.partition.Topic(), "offset", h.BaseOffset+int64(r.OffsetDelta), "err", err)
				}
				n++
			}
			next = max(next, h.BaseOffset+int64(h.LastOffsetDelta)+1)
		}
		res.Release()
	}
	return n, nil
}
