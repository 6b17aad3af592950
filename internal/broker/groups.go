package broker

// Group coordination: the broker's side of package group.
//
// The coordinator is a state machine; the broker feeds it requests with
// the time, waits for the replies it defers (JoinGroup, SyncGroup), runs
// its timer (groupTimer) and writes what it must keep to the
// __consumer_offsets partition (offsetsLog) before offsets take effect.
// One node is the coordinator of every group: FindCoordinator names it.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/group"
	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage"
)

// openGroups opens the offsets topic and starts the coordinator with the
// offsets committed before.
func (b *Broker) openGroups() error {
	cfg := group.DefaultConfig()
	if b.cfg.Groups != nil {
		cfg = *b.cfg.Groups
	}
	offsets, err := openOffsetsLog(b.engine)
	if err != nil {
		return err
	}
	b.offsets = offsets
	b.groups = group.New(cfg, groupTopics{b.engine})
	started := time.Now()
	n, err := offsets.replay(b.groups, b.logger.Warn)
	if err != nil {
		return err
	}
	b.logger.Info("committed offsets loaded", "records", n, "groups", len(b.groups.Summaries()), "took", time.Since(started).Round(time.Millisecond))
	return nil
}

// Groups returns the group coordinator (for metrics).
func (b *Broker) Groups() *group.Coordinator { return b.groups }

// internalTopic reports whether a topic is the broker's own: clients may
// read it, not write, delete or grow it.
func internalTopic(name string) bool { return name == group.OffsetsTopic }

// errInternalTopic refuses writes to an internal topic.
var errInternalTopic = errors.New("the topic is internal to the broker")

// groupTopics is the coordinator's view of the topics: the storage
// engine's, internal ones excluded.
type groupTopics struct{ engine *storage.Engine }

func (t groupTopics) ByName(name string) (group.Topic, bool) {
	if internalTopic(name) {
		return group.Topic{}, false
	}
	info, err := t.engine.Topic(name)
	if err != nil {
		return group.Topic{}, false
	}
	return group.Topic{ID: info.ID, Name: info.Name, Partitions: info.Partitions}, true
}

func (t groupTopics) ByID(id [16]byte) (group.Topic, bool) {
	info, ok := t.engine.TopicByID(id)
	if !ok || internalTopic(info.Name) {
		return group.Topic{}, false
	}
	return group.Topic{ID: info.ID, Name: info.Name, Partitions: info.Partitions}, true
}

func (t groupTopics) All() []group.Topic {
	infos := t.engine.Topics()
	out := make([]group.Topic, 0, len(infos))
	for _, info := range infos {
		if !internalTopic(info.Name) {
			out = append(out, group.Topic{ID: info.ID, Name: info.Name, Partitions: info.Partitions})
		}
	}
	return out
}

// offsetsLog is the __consumer_offsets partition: one partition,
// compacted, in Kafka's record format (package group, records.go).
type offsetsLog struct {
	partition *storage.Partition
	engine    *storage.Engine
}

// openOffsetsLog opens the offsets partition, creating its topic on the
// first start.
func openOffsetsLog(engine *storage.Engine) (*offsetsLog, error) {
	if _, err := engine.Topic(group.OffsetsTopic); errors.Is(err, storage.ErrUnknownTopicOrPartition) {
		config, err := engine.TopicDefaults().WithOverrides(map[string]string{"cleanup.policy": "compact"})
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", group.OffsetsTopic, err)
		}
		if _, err := engine.CreateTopic(group.OffsetsTopic, 1, config); err != nil {
			return nil, fmt.Errorf("create %s: %w", group.OffsetsTopic, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("open %s: %w", group.OffsetsTopic, err)
	}
	p, err := engine.Partition(group.OffsetsTopic, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", group.OffsetsTopic, err)
	}
	return &offsetsLog{partition: p, engine: engine}, nil
}

// append appends records as one batch; it does not wait for the batch to
// be durable.
func (l *offsetsLog) append(now time.Time, records []group.Record) (storage.AppendResult, error) {
	rs := make([]kmsg.Record, len(records))
	for i, r := range records {
		rs[i] = kmsg.Record{OffsetDelta: int32(i), Key: r.Key, Value: r.Value}
	}
	ms := now.UnixMilli()
	batch, err := recordbatch.Build(recordbatch.Header{
		LastOffsetDelta: int32(len(rs) - 1),
		BaseTimestamp:   ms, MaxTimestamp: ms,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
	}, rs)
	if err != nil {
		return storage.AppendResult{}, err
	}
	return l.partition.Append(batch)
}

// replay feeds every record of the partition to the coordinator, in
// order. Records it cannot decode are logged and skipped.
func (l *offsetsLog) replay(coord *group.Coordinator, logf func(msg string, args ...any)) (int, error) {
	offsets := l.partition.Offsets()
	n := 0
	for next := offsets.LogStart; next < offsets.HighWatermark; {
		res, err := l.partition.Read(next, 1<<20)
		if err != nil {
			return n, fmt.Errorf("read %s at %d: %w", group.OffsetsTopic, next, err)
		}
		batches, err := recordbatch.Split(res.Records)
		if err != nil || len(batches) == 0 {
			res.Release()
			return n, fmt.Errorf("read %s at %d: %d batches: %v", group.OffsetsTopic, next, len(batches), err)
		}
		for _, b := range batches {
			h, records, err := recordbatch.Records(b, 64<<20)
			if err != nil {
				res.Release()
				return n, fmt.Errorf("read %s at %d: %w", group.OffsetsTopic, next, err)
			}
			for _, r := range records {
				if h.BaseOffset+int64(r.OffsetDelta) < next {
					continue
				}
				if err := coord.Replay(r.Key, r.Value); err != nil {
					logf("skipped an offsets record", "offset", h.BaseOffset+int64(r.OffsetDelta), "err", err)
				}
				n++
			}
			next = max(next, h.BaseOffset+int64(h.LastOffsetDelta)+1)
		}
		res.Release()
	}
	return n, nil
}

// logged makes a change of the coordinator's offsets durable. change
// makes it (in memory) and returns its records; they are appended to the
// offsets topic while offsetsMu is held, so that the log has the changes
// in the order the coordinator made them, and replaying it gives what the
// coordinator holds. done, when set, is told (under offsetsMu too) whether
// the append failed. logged then waits for the records to be durable and
// returns 0, or the error code of a failed append or fsync (logged: the
// change then holds in memory but may not survive a restart).
func (b *Broker) logged(ctx context.Context, change func() []group.Record, done func(code int16)) int16 {
	b.offsetsMu.Lock()
	records := change()
	var res storage.AppendResult
	var err error
	if len(records) > 0 {
		res, err = b.offsets.append(time.Now(), records)
	}
	code := int16(0)
	if err != nil {
		code = groupStorageError(err)
	}
	if done != nil {
		done(code)
	}
	b.offsetsMu.Unlock()
	if err == nil && len(records) > 0 {
		err = b.engine.WaitDurable(context.WithoutCancel(ctx), res)
		code = groupStorageError(err)
	}
	if err != nil {
		b.logger.Error("writing to the offsets topic failed", "records", len(records), "err", err)
		return code
	}
	return 0
}

// groupStorageError is the code for a failed write of the offsets topic.
func groupStorageError(err error) int16 {
	if err == nil {
		return 0
	}
	if code := errorCode(err); code != 0 && code != kerr.UnknownServerError.Code {
		return code
	}
	return kerr.KafkaStorageError.Code
}

// runGroupTimer calls the coordinator's Tick when something is due (at
// least every tick), until ctx ends, and writes what Tick deleted.
func (b *Broker) runGroupTimer(ctx context.Context) {
	const tick = 100 * time.Millisecond
	t := time.NewTimer(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b.logged(ctx, func() []group.Record { return b.groups.Tick(time.Now()) }, nil)
		wait := tick
		if next := b.groups.NextDeadline(); !next.IsZero() {
			wait = min(wait, max(time.Until(next), time.Millisecond))
		}
		t.Reset(wait)
	}
}

// client returns who sent the request, as the coordinator records it.
func (r *request) client() group.Client {
	return group.Client{ID: r.header.clientID, Host: r.host}
}

// awaitReply waits for a reply the coordinator deferred, or for the
// request's context to end (the connection closed or the broker stops).
func awaitReply[T any](ctx context.Context, ch <-chan T) (T, error) {
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
