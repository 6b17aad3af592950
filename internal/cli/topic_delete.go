package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// newTopicDeleteCommand is `weir topic delete`.
func newTopicDeleteCommand(conn *connection) *cobra.Command {
	return &cobra.Command{
		Use:     "delete TOPIC...",
		Short:   "Delete topics and all their records",
		Example: `  weir topic delete orders`,
		Args:    minArgs(1, "at least one topic name"),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			return deleteTopics(cmd, conn, topics)
		},
	}
}

// deletedTopic is a topic in `weir topic delete --output json`.
type deletedTopic struct {
	Topic string `json:"topic"`
	ID    string `json:"id,omitempty"`
}

func deleteTopics(cmd *cobra.Command, conn *connection, topics []string) error {
	adm, ctx, done, err := conn.adminSession(cmd)
	if err != nil {
		return err
	}
	defer done()
	responses, err := adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	var errs []error
	deleted := []deletedTopic{}
	for _, topic := range topics {
		r, err := responses.On(topic, nil)
		if err == nil {
			err = r.Err
		}
		if err != nil {
			errs = append(errs, topicError("delete", topic, err, r.ErrMessage))
			continue
		}
		deleted = append(deleted, deletedTopic{topic, formatTopicID(r.ID)})
	}
	out := cmd.OutOrStdout()
	if conn.json() {
		if err := writeJSON(out, deleted); err != nil {
			return err
		}
	} else {
		for _, d := range deleted {
			if _, err := fmt.Fprintf(out, "deleted topic %s\n", d.Topic); err != nil {
				return err
			}
		}
	}
	return errors.Join(errs...)
}
