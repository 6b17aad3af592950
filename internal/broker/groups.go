package broker

// Group coordination: the broker's side of package group.
//
// The coordinator is a state machine; the broker feeds it requests with
// the time, waits for the replies it defers (JoinGroup, SyncGroup), runs
// its timer (groupTimer) and writes what it must keep to the
// __consumer_offsets partition (an internalLog) before offsets take
// effect.
// One node is the coordinator of every group: FindCoordinator names it.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

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
	offsets, err := openInternalLog(b.engine, group.OffsetsTopic)
	if err != nil {
		return err
	}
	b.offsets = offsets
	b.groups = group.New(cfg, groupTopics{b.engine})
	started := time.Now()
	n, err := offsets.replay(b.replayOffsets, b.logger.Warn)
	if err != nil {
		return err
	}
	b.logger.Info("committed offsets loaded", "records", n, "groups", len(b.groups.Summaries()), "took", time.Since(started).Round(time.Millisecond))
	return nil
}

// replayOffsets applies one record of __consumer_offsets at start: plain
// offsets, transactional offsets (staged until their marker), and the
// markers that commit or abort them.
func (b *Broker) replayOffsets(h recordbatch.Header, key, value []byte) error {
	switch {
	case h.Control():
		commit, ok := markerCommits(key)
		if ok {
			b.groups.CompleteTxn(h.ProducerID, commit)
		}
		return nil
	case h.Transactional():
		return b.groups.ReplayTxn(h.ProducerID, key, value)
	}
	return b.groups.Replay(key, value)
}

// markerCommits reads a control record's key: int16 version, int16 type
// (0 abort, 1 commit).
func markerCommits(key []byte) (commit, ok bool) {
	if len(key) < 4 {
		return false, false
	}
	switch int16(key[2])<<8 | int16(key[3]) {
	case 0:
		return false, true
	case 1:
		return true, true
	}
	return false, false
}

// Groups returns the group coordinator (for metrics).
func (b *Broker) Groups() *group.Coordinator { return b.groups }

// groupRecords converts the coordinator's records.
func groupRecords(records []group.Record) []internalRecord {
	out := make([]internalRecord, len(records))
	for i, r := range records {
		out[i] = internalRecord{Key: r.Key, Value: r.Value}
	}
	return out
}

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

// logged makes a change of the coordinator's offsets durable. change
// makes it (in memory) and returns its records; they are appended to the
// offsets topic while offsetsMu is held, so that the log has the changes
// in the order the coordinator made them, and replaying it gives what the
// coordinator holds. done, when set, is told (under offsetsMu too) whether
// the append failed. logged then waits for the records to be durable and
// returns 0, or the error code of a failed append or fsync (logged: the
// change then holds in memory but may not survive a restart).
func (b *Broker) logged(ctx context.Context, change func() []group.Record, done func(code int16)) int16 {
	return b.loggedAs(ctx, -1, -1, change, done)
}

// loggedAs is logged with the records in a transactional batch of
// producerID at epoch (a TxnOffsetCommit), when producerID >= 0.
func (b *Broker) loggedAs(ctx context.Context, producerID int64, epoch int16, change func() []group.Record, done func(code int16)) int16 {
	b.offsetsMu.Lock()
	records := change()
	var res storage.AppendResult
	var err error
	if len(records) > 0 {
		res, err = b.offsets.appendAs(time.Now(), groupRecords(records), producerID, epoch)
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

// runGroupTimer calls the group coordinator's Tick when something is due
// (at least every tick), and the transaction coordinator's every second,
// until ctx ends, and writes what they decided.
func (b *Broker) runGroupTimer(ctx context.Context) {
	const tick = 100 * time.Millisecond
	t := time.NewTimer(tick)
	defer t.Stop()
	var lastTxnTick, lastRetry time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b.logged(ctx, func() []group.Record { return b.groups.Tick(time.Now()) }, nil)
		if time.Since(lastTxnTick) >= time.Second {
			b.tickTxn(ctx, time.Since(lastRetry) >= 5*time.Second)
			lastTxnTick = time.Now()
			if time.Since(lastRetry) >= 5*time.Second {
				lastRetry = lastTxnTick
			}
		}
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
