package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// newTopicAddPartitionsCommand is `weir topic add-partitions`.
func newTopicAddPartitionsCommand(conn *connection) *cobra.Command {
	var total int
	cmd := &cobra.Command{
		Use:   "add-partitions TOPIC... --total N",
		Short: "Add partitions to topics, up to a total count",
		Long: `Grow topics to --total partitions. Partitions can only be added, never
removed; records already written stay in their partitions, so keys may map
to different partitions from now on.`,
		Example: `  weir topic add-partitions orders --total 12`,
		Args:    minArgs(1, "at least one topic name"),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			if total <= 0 {
				return usageErrorf(cmd, "--total %d: want the topic's new partition count (at least 1)", total)
			}
			return addPartitions(cmd, conn, total, topics)
		},
	}
	cmd.Flags().IntVar(&total, "total", 0, "the partition count each topic should have (required)")
	return cmd
}

// grownTopic is a topic in `weir topic add-partitions --output json`.
type grownTopic struct {
	Topic      string `json:"topic"`
	Partitions int    `json:"partitions"`
}

func addPartitions(cmd *cobra.Command, conn *connection, total int, topics []string) error {
	adm, ctx, done, err := conn.adminSession(cmd)
	if err != nil {
		return err
	}
	defer done()
	responses, err := adm.UpdatePartitions(ctx, total, topics...)
	if err != nil {
		return fmt.Errorf("add partitions: %w", err)
	}
	var errs []error
	grown := []grownTopic{}
	for _, topic := range topics {
		r, err := responses.On(topic, nil)
		if err == nil {
			err = r.Err
		}
		if err != nil {
			errs = append(errs, topicError("add partitions to", topic, err, r.ErrMessage))
			continue
		}
		grown = append(grown, grownTopic{topic, total})
	}
	out := cmd.OutOrStdout()
	if conn.json() {
		if err := writeJSON(out, grown); err != nil {
			return err
		}
	} else {
		for _, g := range grown {
			if _, err := fmt.Fprintf(out, "topic %s now has %s\n", g.Topic, plural(g.Partitions, "partition")); err != nil {
				return err
			}
		}
	}
	return errors.Join(errs...)
}
