package jepsen

// The final reads, after the workload has stopped and the broker has been
// restarted: fence every transactional id (aborting what was left open),
// wait until no transaction holds back the last stable offset, write a
// sentinel record at the end of each partition, and read every partition
// to its sentinel, read_committed and read_uncommitted.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// settleAndRead does the above; the sentinels are sends of process
// "final" in the history.
func settleAndRead(ctx context.Context, addr string, partitions int32, transactionalIDs []string, rec *recorder) (finalLog, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return finalLog{}, err
	}
	defer cl.Close()
	for _, id := range transactionalIDs {
		if err := fence(ctx, cl, id); err != nil {
			return finalLog{}, fmt.Errorf("fence %s: %w", id, err)
		}
	}
	if err := waitStable(ctx, kadm.NewClient(cl)); err != nil {
		return finalLog{}, err
	}
	sentinels := map[int32]string{}
	for p := range partitions {
		v := fmt.Sprintf("end.%d", p)
		sentinels[p] = v
		send := rec.invoke(op{Process: "final", Kind: kindSend, Value: v, Partition: p, Offset: -1})
		res, err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)}).First()
		rec.complete(send, func(o *op) {
			if err != nil {
				o.Outcome, o.Err = unknown, err.Error()
				return
			}
			o.Outcome, o.Offset = ok, res.Offset
		})
		if err != nil {
			return finalLog{}, fmt.Errorf("sentinel of partition %d: %w", p, err)
		}
	}
	var final finalLog
	if final.committed, err = readAll(ctx, addr, kgo.ReadCommitted(), sentinels); err != nil {
		return final, fmt.Errorf("read_committed: %w", err)
	}
	if final.uncommitted, err = readAll(ctx, addr, kgo.ReadUncommitted(), sentinels); err != nil {
		return final, fmt.Errorf("read_uncommitted: %w", err)
	}
	return final, nil
}

// fence initializes transactional id, which bumps its epoch and aborts the
// transaction its last producer left open.
func fence(ctx context.Context, cl *kgo.Client, id string) error {
	for {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionalID = kmsg.StringPtr(id)
		req.TransactionTimeoutMillis = int32(txnTimeout.Milliseconds())
		req.ProducerID, req.ProducerEpoch = -1, -1
		resp, err := req.RequestWith(ctx, cl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
			if err == nil {
				return nil
			}
			if !kerr.IsRetriable(err) && !errors.Is(err, kerr.ConcurrentTransactions) {
				return err
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		}
		wait(ctx, 100*time.Millisecond) // CONCURRENT_TRANSACTIONS: the abort's markers are being written
	}
}

// waitStable waits until every partition's last stable offset is its high
// watermark: no transaction is open.
func waitStable(ctx context.Context, admin *kadm.Client) error {
	var last string
	for {
		ends, err := admin.ListEndOffsets(ctx, topic)
		if err == nil {
			var stable kadm.ListedOffsets
			stable, err = admin.ListCommittedOffsets(ctx, topic)
			if err == nil {
				last = ""
				ends.Each(func(end kadm.ListedOffset) {
					if s, found := stable.Lookup(topic, end.Partition); !found || s.Err != nil || end.Err != nil || s.Offset != end.Offset {
						last += fmt.Sprintf(" p%d: last stable %d, high watermark %d (%v %v);", end.Partition, s.Offset, end.Offset, s.Err, end.Err)
					}
				})
				if last == "" {
					return nil
				}
			}
		}
		if err != nil {
			last = err.Error()
		}
		if ctx.Err() != nil {
			return fmt.Errorf("a transaction stays open after every transactional id was fenced:%s", last)
		}
		wait(ctx, 100*time.Millisecond)
	}
}

// readAll reads every partition from offset 0 to its sentinel.
func readAll(ctx context.Context, addr string, level kgo.IsolationLevel, sentinels map[int32]string) (map[int32][]record, error) {
	offsets := map[int32]kgo.Offset{}
	for p := range sentinels {
		offsets[p] = kgo.NewOffset().At(0)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchIsolationLevel(level), kgo.FetchMaxWait(fetchMaxWait))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	got := map[int32][]record{}
	done := map[int32]bool{}
	for len(done) < len(sentinels) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			var short []string
			for p := range sentinels {
				if !done[p] {
					short = append(short, fmt.Sprintf("p%d (%d records)", p, len(got[p])))
				}
			}
			return got, fmt.Errorf("%w before the sentinels of %v", ctx.Err(), short)
		}
		fs.EachRecord(func(r *kgo.Record) {
			got[r.Partition] = append(got[r.Partition], record{Offset: r.Offset, Value: string(r.Value)})
			if string(r.Value) == sentinels[r.Partition] {
				done[r.Partition] = true
			}
		})
	}
	return got, nil
}

// wait waits for d or until ctx ends.
func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
