package cli

import (
	"bufio"
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kgo"
)

// consumeState decides which fetched records are printed and when the
// consumption is over: at --count records, or, without --follow, when every
// partition has reached the end offset it had at the start.
type consumeState struct {
	topic string
	s     consumeSettings
	// ends holds, without --follow, the end offset of each partition not
	// yet read to its end. A partition leaves it when its record before
	// that end is printed.
	ends    map[int32]int64
	written int64
}

func newConsumeState(topic string, s consumeSettings, ends map[int32]int64) *consumeState {
	return &consumeState{topic: topic, s: s, ends: ends}
}

// run polls and prints records until the consumption is over, the context
// is canceled (not an error: the user stopped it), or a fetch fails.
func (c *consumeState) run(ctx context.Context, cl *kgo.Client, out *bufio.Writer) error {
	for !c.finished() {
		fetches := cl.PollFetches(ctx)
		var done []int32
		var err error
		fetches.EachRecord(func(r *kgo.Record) {
			if err != nil || !c.accept(r, &done) {
				return
			}
			err = c.s.write(out, r)
		})
		if err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if err := c.fetchError(fetches); err != nil {
			return err
		}
		if len(done) > 0 {
			cl.PauseFetchPartitions(map[string][]int32{c.topic: done})
		}
	}
	return nil
}

// finished reports whether --count records were printed or, without
// --follow, every partition was read to its end.
func (c *consumeState) finished() bool {
	if c.s.count > 0 && c.written >= c.s.count {
		return true
	}
	return !c.s.follow && len(c.ends) == 0
}

// accept reports whether r is to be printed and counts it; a partition
// that r brings to its end is appended to done.
func (c *consumeState) accept(r *kgo.Record, done *[]int32) bool {
	if c.finished() {
		return false
	}
	if !c.s.follow {
		end, reading := c.ends[r.Partition]
		if !reading || r.Offset >= end {
			return false
		}
		if r.Offset+1 >= end {
			delete(c.ends, r.Partition)
			*done = append(*done, r.Partition)
		}
	}
	c.written++
	return true
}

// fetchError is the first error of the fetches that is not the end of the
// consumption.
func (c *consumeState) fetchError(fetches kgo.Fetches) error {
	for _, fe := range fetches.Errors() {
		if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, kgo.ErrClientClosed) {
			continue
		}
		return partitionError("consume", fe.Topic, fe.Partition, fe.Err)
	}
	return nil
}
