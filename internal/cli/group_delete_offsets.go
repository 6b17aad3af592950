package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// newGroupDeleteOffsetsCommand is `weir group delete-offsets`.
func newGroupDeleteOffsetsCommand(conn *connection) *cobra.Command {
	var topics []string
	cmd := &cobra.Command{
		Use:   "delete-offsets GROUP --topic TOPIC[:P,...]...",
		Short: "Delete a group's committed offsets for topics or partitions",
		Long: `Delete the offsets a group committed for the topics named (OffsetDelete):
all of a topic's partitions, or those listed as TOPIC:0,1,2. A topic that no
longer exists can still be named: its partitions are those the group has
offsets for. The offsets of a topic the group's members are subscribed to
cannot be deleted (GROUP_SUBSCRIBED_TO_TOPIC).`,
		Example: `  weir group delete-offsets orders-app --topic old-orders
  weir group delete-offsets orders-app --topic orders:3,4`,
		Args: exactArgs(1, "one group name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			scopes, err := parseTopicScopes(topics)
			if err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			if len(scopes) == 0 {
				return usageErrorf(cmd, "say which offsets: --topic TOPIC[:PARTITIONS]")
			}
			return deleteOffsets(cmd, conn, args[0], scopes)
		},
	}
	cmd.Flags().StringArrayVar(&topics, "topic", nil, "a topic whose offsets to delete, as TOPIC (all partitions) or TOPIC:0,1,2; repeat for several")
	return cmd
}

// deletedOffsets is `weir group delete-offsets --output json`.
type deletedOffsets struct {
	Group   string          `json:"group"`
	Offsets []deletedOffset `json:"offsets"`
}

// deletedOffset is one partition of deletedOffsets; Error is the Kafka
// error's name when the offset was not deleted, null when it was.
type deletedOffset struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Error     *string `json:"error"`
}

func deleteOffsets(cmd *cobra.Command, conn *connection, group string, scopes []topicScope) error {
	adm, ctx, done, err := conn.adminSession(cmd)
	if err != nil {
		return err
	}
	defer done()
	partitions, err := deleteScope(ctx, adm, group, scopes)
	if err != nil {
		return err
	}
	set := make(kadm.TopicsSet)
	for _, tp := range partitions {
		set.Add(tp.topic, tp.partition)
	}
	responses, err := adm.DeleteOffsets(ctx, group, set)
	if err != nil {
		return groupError("delete offsets of", group, err, "")
	}
	result := deletedOffsets{Group: group, Offsets: []deletedOffset{}}
	var errs []error
	for _, tp := range partitions {
		err, ok := responses.Lookup(tp.topic, tp.partition)
		if !ok {
			err = errors.New("no answer")
		}
		d := deletedOffset{Topic: tp.topic, Partition: tp.partition}
		if err != nil {
			name := errorName(err)
			d.Error = &name
			errs = append(errs, partitionError(fmt.Sprintf("delete offset of group %s for", group), tp.topic, tp.partition, err))
		}
		result.Offsets = append(result.Offsets, d)
	}
	if err := printDeletedOffsets(cmd.OutOrStdout(), conn, result); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// deleteScope reads what resolving the scopes needs from the cluster and
// resolves them.
func deleteScope(ctx context.Context, adm *kadm.Client, group string, scopes []topicScope) ([]topicPartition, error) {
	committed, err := committedOffsets(adm.FetchManyOffsets(ctx, group), group)
	if err != nil {
		return nil, err
	}
	existing, err := listPartitions(ctx, adm, scopeTopics(scopes))
	if err != nil {
		return nil, err
	}
	return resolveDeleteScope(scopes, existing, committed)
}

func printDeletedOffsets(w io.Writer, conn *connection, result deletedOffsets) error {
	if conn.json() {
		return writeJSON(w, result)
	}
	tab := newTable(w, "TOPIC", "PARTITION", "STATUS")
	for _, d := range result.Offsets {
		status := "deleted"
		if d.Error != nil {
			status = *d.Error
		}
		tab.row(d.Topic, d.Partition, status)
	}
	return tab.flush()
}
