package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newGroupResetOffsetsCommand is `weir group reset-offsets`.
func newGroupResetOffsetsCommand(conn *connection) *cobra.Command {
	var f resetFlags
	var topics []string
	var allTopics, dryRun, execute bool
	cmd := &cobra.Command{
		Use:   "reset-offsets GROUP (--topic TOPIC[:P,...]... | --all-topics) (--to-earliest | --to-latest | --to-offset N | --shift-by N | --to-datetime TIME | --by-duration D) [--execute]",
		Short: "Move a group's committed offsets (prints the plan; --execute commits it)",
		Long: `Plan new committed offsets for a group's partitions and, with --execute,
commit them. Without --execute nothing changes (a dry run): the plan is
printed with each partition's current and new offset.

The partitions are those of the topics named with --topic (all of a topic's,
or those listed as TOPIC:0,1,2), or with --all-topics those the group has
committed offsets for. Exactly one flag says where the offsets go; a new
offset is always kept within the partition's log, from its start to its end.

Offsets can be reset only while the group has no members (state Empty, or a
group that does not exist yet): stop its consumers first.`,
		Example: `  weir group reset-offsets orders-app --topic orders --to-earliest
  weir group reset-offsets orders-app --topic orders:0,1 --shift-by -100 --execute
  weir group reset-offsets orders-app --all-topics --to-datetime 2024-05-01T00:00:00Z --execute
  weir group reset-offsets orders-app --all-topics --by-duration 1h --execute`,
		Args: exactArgs(1, "one group name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			f.toOffsetSet = cmd.Flags().Changed("to-offset")
			f.shiftSet = cmd.Flags().Changed("shift-by")
			spec, err := parseResetSpec(f, time.Now(), time.Local)
			if err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			scopes, err := parseTopicScopes(topics)
			if err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			switch {
			case len(scopes) > 0 && allTopics:
				return usageErrorf(cmd, "--topic and --all-topics exclude each other")
			case len(scopes) == 0 && !allTopics:
				return usageErrorf(cmd, "say which partitions: --topic TOPIC[:PARTITIONS] or --all-topics")
			case dryRun && execute:
				return usageErrorf(cmd, "--dry-run and --execute exclude each other")
			}
			return resetOffsets(cmd, conn, args[0], resetRequest{spec, scopes, allTopics, execute})
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&topics, "topic", nil, "a topic whose offsets to reset, as TOPIC (all partitions) or TOPIC:0,1,2; repeat for several")
	fl.BoolVar(&allTopics, "all-topics", false, "reset every partition the group has committed an offset for")
	fl.BoolVar(&f.toEarliest, "to-earliest", false, "move to each partition's log start offset")
	fl.BoolVar(&f.toLatest, "to-latest", false, "move to each partition's log end offset")
	fl.Int64Var(&f.toOffset, "to-offset", 0, "move to this offset in every partition")
	fl.Int64Var(&f.shiftBy, "shift-by", 0, "move the committed offset by N (negative: back)")
	fl.StringVar(&f.toDatetime, "to-datetime", "", "move to the first record at or after this time: RFC 3339, or 2006-01-02T15:04:05 in the local zone")
	fl.StringVar(&f.byDuration, "by-duration", "", "move to the first record at or after this long ago: 1h30m, or ISO-8601 as PT1H30M")
	fl.BoolVar(&dryRun, "dry-run", false, "only print the plan (the default)")
	fl.BoolVar(&execute, "execute", false, "commit the new offsets")
	return cmd
}

// resetRequest is what `weir group reset-offsets` was asked to do.
type resetRequest struct {
	spec      resetSpec
	scopes    []topicScope
	allTopics bool
	execute   bool
}

// resetResult is `weir group reset-offsets --output json`.
type resetResult struct {
	Group    string          `json:"group"`
	Executed bool            `json:"executed"`
	Offsets  []plannedOffset `json:"offsets"`
}

func resetOffsets(cmd *cobra.Command, conn *connection, group string, req resetRequest) error {
	cl, adm, ctx, done, err := conn.clientSession(cmd)
	if err != nil {
		return err
	}
	defer done()
	if err := checkInactive(ctx, cl, group); err != nil {
		return err
	}
	plan, err := planGroupReset(ctx, adm, group, req)
	if err != nil {
		return err
	}
	var errs []error
	if req.execute {
		errs = commitPlan(ctx, adm, group, plan)
	}
	if err := printResetPlan(cmd.OutOrStdout(), conn, resetResult{group, req.execute, plan}); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// checkInactive refuses a group that has members, as Kafka does: their
// commits would overwrite the reset, and a member's commits are checked
// against its generation or epoch. A group that does not exist yet is
// fine: committing creates it.
func checkInactive(ctx context.Context, cl *kgo.Client, group string) error {
	listed, err := listGroups(ctx, cl, groupFilter{})
	if listed == nil {
		return err
	}
	for _, g := range listed {
		if g.Group == group && !groupInactive(g.State) {
			return fmt.Errorf("group %s is %s: offsets can be reset only while it has no members (Empty); stop its consumers first", group, g.State)
		}
	}
	return err
}

// planGroupReset reads what the plan needs from the cluster and plans it.
func planGroupReset(ctx context.Context, adm *kadm.Client, group string, req resetRequest) ([]plannedOffset, error) {
	committed, err := committedOffsets(adm.FetchManyOffsets(ctx, group), group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		committed, err = map[topicPartition]int64{}, nil
	}
	if err != nil {
		return nil, err
	}
	var existing map[string][]int32
	if !req.allTopics {
		if existing, err = listPartitions(ctx, adm, scopeTopics(req.scopes)); err != nil {
			return nil, err
		}
	}
	partitions, err := resolveResetScope(req.scopes, req.allTopics, existing, committed)
	if err != nil {
		return nil, err
	}
	topics := partitionTopics(partitions)
	listed, err := listRanges(ctx, adm, topics)
	if err != nil {
		return nil, err
	}
	st := resetState{committed: committed, ranges: make(map[topicPartition]offsetRange)}
	for _, tp := range partitions {
		r, err := listed.lookup(tp)
		if err != nil {
			return nil, rangeError(listed, tp, err)
		}
		st.ranges[tp] = r
	}
	if req.spec.kind == resetToTime {
		if st.atTime, err = listOffsetsAtTime(ctx, adm, req.spec.millis, topics); err != nil {
			return nil, err
		}
	}
	return planReset(req.spec, partitions, st)
}

// partitionTopics returns the topics of partitions, which are sorted.
func partitionTopics(partitions []topicPartition) []string {
	var topics []string
	for _, tp := range partitions {
		topics = append(topics, tp.topic)
	}
	return slices.Compact(topics)
}

// rangeError describes why a partition's offsets could not be listed:
// its topic does not exist (any more), or the partition failed.
func rangeError(listed listedRanges, tp topicPartition, err error) error {
	if listed.topicErrs[tp.topic] != nil {
		return topicError("list offsets of", tp.topic, err, "")
	}
	return partitionError("list offsets of", tp.topic, tp.partition, err)
}

// listOffsetsAtTime lists, in each partition of topics, the offset of the
// first record at or after millis (the log end when there is none).
func listOffsetsAtTime(ctx context.Context, adm *kadm.Client, millis int64, topics []string) (map[topicPartition]int64, error) {
	listed, err := adm.ListOffsetsAfterMilli(ctx, millis, topics...)
	if err != nil {
		return nil, fmt.Errorf("list offsets by time: %w", err)
	}
	at := make(map[topicPartition]int64)
	var errs []error
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			errs = append(errs, partitionError("list offset by time of", o.Topic, o.Partition, o.Err))
			return
		}
		at[topicPartition{o.Topic, o.Partition}] = o.Offset
	})
	return at, errors.Join(errs...)
}

// commitPlan commits the new offsets and returns an error for each
// partition the broker refused.
func commitPlan(ctx context.Context, adm *kadm.Client, group string, plan []plannedOffset) []error {
	var offsets kadm.Offsets
	for _, p := range plan {
		offsets.AddOffset(p.Topic, p.Partition, p.NewOffset, -1)
	}
	responses, err := adm.CommitOffsets(ctx, group, offsets)
	if err != nil {
		return []error{groupError("commit offsets of", group, err, "")}
	}
	var errs []error
	for _, p := range plan {
		r, ok := responses.Lookup(p.Topic, p.Partition)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("commit offset of group %s for topic %s partition %d: no answer", group, p.Topic, p.Partition))
		case r.Err != nil:
			errs = append(errs, partitionError(fmt.Sprintf("commit offset of group %s for", group), p.Topic, p.Partition, r.Err))
		}
	}
	return errs
}

func printResetPlan(w io.Writer, conn *connection, result resetResult) error {
	if conn.json() {
		return writeJSON(w, result)
	}
	tab := newTable(w, "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET")
	for _, p := range result.Offsets {
		tab.row(p.Topic, p.Partition, orDashInt(p.CurrentOffset), p.NewOffset)
	}
	if err := tab.flush(); err != nil {
		return err
	}
	if result.Executed {
		_, err := fmt.Fprintf(w, "\nreset the offsets of group %s in %s\n", result.Group, plural(len(result.Offsets), "partition"))
		return err
	}
	_, err := fmt.Fprintln(w, "\ndry run: nothing committed; add --execute to commit these offsets")
	return err
}
