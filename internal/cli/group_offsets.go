package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
)

// topicPartition names one partition of a topic.
type topicPartition struct {
	topic     string
	partition int32
}

func (tp topicPartition) String() string {
	return fmt.Sprintf("topic %s partition %d", tp.topic, tp.partition)
}

func compareTopicPartitions(a, b topicPartition) int {
	return cmp.Or(strings.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
}

// sortedPartitions returns the keys of m in topic and partition order.
func sortedPartitions[V any](m map[topicPartition]V) []topicPartition {
	out := make([]topicPartition, 0, len(m))
	for tp := range m {
		out = append(out, tp)
	}
	slices.SortFunc(out, compareTopicPartitions)
	return out
}

// listedRanges are partitions' offset ranges as the cluster listed them,
// with the errors of those it could not list.
type listedRanges struct {
	ranges map[topicPartition]offsetRange
	// errs are the partitions' listing errors; topicErrs the errors of
	// whole topics (a topic that does not exist).
	errs      map[topicPartition]error
	topicErrs map[string]error
}

// errNotListed stands for a partition the listing did not mention: one
// past the topic's partition count.
var errNotListed = errors.New("partition not listed")

// lookup returns a partition's range, or why there is none.
func (l listedRanges) lookup(tp topicPartition) (offsetRange, error) {
	if r, ok := l.ranges[tp]; ok {
		return r, nil
	}
	if err := l.errs[tp]; err != nil {
		return offsetRange{}, err
	}
	if err := l.topicErrs[tp.topic]; err != nil {
		return offsetRange{}, err
	}
	return offsetRange{}, errNotListed
}

// listRanges lists the start and end offsets of every partition of topics.
// Unlike listOffsetRanges it does not stop at a topic or partition that
// cannot be listed (a group may have offsets for a deleted topic): their
// errors are kept with the ranges. It fails only when a listing fails as a
// whole.
func listRanges(ctx context.Context, adm *kadm.Client, topics []string) (listedRanges, error) {
	l := listedRanges{
		ranges:    make(map[topicPartition]offsetRange),
		errs:      make(map[topicPartition]error),
		topicErrs: make(map[string]error),
	}
	if len(topics) == 0 {
		return l, nil
	}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil && len(starts) == 0 {
		return l, fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil && len(ends) == 0 {
		return l, fmt.Errorf("list end offsets: %w", err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		tp := topicPartition{e.Topic, e.Partition}
		s, ok := starts.Lookup(e.Topic, e.Partition)
		switch {
		case e.Partition < 0: // kadm's marker for a topic-level error
			l.topicErrs[e.Topic] = e.Err
		case e.Err != nil:
			l.errs[tp] = e.Err
		case !ok:
			l.errs[tp] = errors.New("no start offset listed")
		case s.Err != nil:
			l.errs[tp] = s.Err
		default:
			l.ranges[tp] = offsetRange{s.Offset, e.Offset}
		}
	})
	return l, nil
}

// offsetRow is one partition of a group in `weir group describe`: its
// committed offset, log offsets and lag, and the member it is assigned to.
// A null is something unknown: no commit, no member, offsets that could
// not be listed.
type offsetRow struct {
	Topic           string  `json:"topic"`
	Partition       int32   `json:"partition"`
	CommittedOffset *int64  `json:"committed_offset"`
	LogStartOffset  *int64  `json:"log_start_offset"`
	LogEndOffset    *int64  `json:"log_end_offset"`
	Lag             *int64  `json:"lag"`
	MemberID        *string `json:"member_id"`
	// Error says why the log offsets are unknown.
	Error string `json:"error,omitempty"`
}

// offsetRows computes a group's rows, in topic and partition order: one
// for every partition assigned to a member or with a committed offset (as
// kafka-consumer-groups.sh --describe). assigned maps a partition to its
// member's id; committed holds the group's committed offsets.
//
// The lag of a partition is its log end offset less the committed offset
// (0 for a commit past the end). A partition without a commit lags by the
// whole log, end less start: what a consumer starting from the earliest
// offset would read. (kafka-consumer-groups.sh shows no lag there, since it
// depends on the consumer's auto.offset.reset; kadm.Lag counts the whole
// log, as here.) The lag is unknown when the log offsets are.
func offsetRows(assigned map[topicPartition]string, committed map[topicPartition]int64, ranges listedRanges) []offsetRow {
	all := make(map[topicPartition]bool)
	for tp := range assigned {
		all[tp] = true
	}
	for tp := range committed {
		all[tp] = true
	}
	rows := []offsetRow{}
	for _, tp := range sortedPartitions(all) {
		row := offsetRow{Topic: tp.topic, Partition: tp.partition}
		if member, ok := assigned[tp]; ok {
			row.MemberID = &member
		}
		if c, ok := committed[tp]; ok {
			row.CommittedOffset = &c
		}
		r, err := ranges.lookup(tp)
		if err != nil {
			row.Error = errorName(err)
			rows = append(rows, row)
			continue
		}
		row.LogStartOffset, row.LogEndOffset = &r.start, &r.end
		from := r.start
		if row.CommittedOffset != nil {
			from = *row.CommittedOffset
		}
		lag := max(r.end-from, 0)
		row.Lag = &lag
		rows = append(rows, row)
	}
	return rows
}

// totalLag sums the known lags of rows.
func totalLag(rows []offsetRow) int64 {
	var total int64
	for _, r := range rows {
		if r.Lag != nil {
			total += *r.Lag
		}
	}
	return total
}
