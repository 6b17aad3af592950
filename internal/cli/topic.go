package cli

import (
	"errors"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// NewTopicCommand returns `weir topic`: create, list, describe and delete
// topics, alter their configs and add partitions.
func NewTopicCommand() *cobra.Command {
	conn := &connection{}
	cmd := newParentCommand("topic", "Create, list, describe, alter and delete topics")
	conn.addFlags(cmd)
	cmd.AddCommand(
		newTopicCreateCommand(conn),
		newTopicListCommand(conn),
		newTopicDescribeCommand(conn),
		newTopicDeleteCommand(conn),
		newTopicAlterConfigCommand(conn),
		newTopicAddPartitionsCommand(conn),
	)
	return cmd
}

// newTopicListCommand is `weir topic list`.
func newTopicListCommand(conn *connection) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the topics with their partition counts",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			adm, ctx, done, err := conn.adminSession(cmd)
			if err != nil {
				return err
			}
			defer done()
			topics, err := adm.ListTopics(ctx)
			if err != nil {
				return err
			}
			return printTopicList(cmd, conn, topics.Sorted())
		},
	}
}

// topicSummary is a topic in `weir topic list --output json`.
type topicSummary struct {
	Topic             string `json:"topic"`
	ID                string `json:"id,omitempty"`
	Partitions        int    `json:"partitions"`
	ReplicationFactor int    `json:"replication_factor"`
}

func printTopicList(cmd *cobra.Command, conn *connection, topics []kadm.TopicDetail) error {
	var errs []error
	summaries := []topicSummary{}
	for _, t := range topics {
		if t.Err != nil {
			errs = append(errs, topicError("list", t.Topic, t.Err, ""))
			continue
		}
		summaries = append(summaries, topicSummary{t.Topic, formatTopicID(t.ID), len(t.Partitions), t.Partitions.NumReplicas()})
	}
	if conn.json() {
		if err := writeJSON(cmd.OutOrStdout(), summaries); err != nil {
			return err
		}
		return errors.Join(errs...)
	}
	tab := newTable(cmd.OutOrStdout(), "TOPIC", "PARTITIONS", "REPLICATION-FACTOR", "ID")
	for _, s := range summaries {
		tab.row(s.Topic, s.Partitions, s.ReplicationFactor, s.ID)
	}
	if err := tab.flush(); err != nil {
		return err
	}
	return errors.Join(errs...)
}
