package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// newTopicCreateCommand is `weir topic create`.
func newTopicCreateCommand(conn *connection) *cobra.Command {
	var (
		partitions   int32
		replication  int16
		configs      []string
		validateOnly bool
	)
	cmd := &cobra.Command{
		Use:   "create TOPIC...",
		Short: "Create topics",
		Long: `Create one or more topics. Without --partitions or --replication-factor the
broker's defaults apply. --validate-only asks the broker to check everything
(name, partitions, configs) and create nothing.`,
		Example: `  weir topic create orders --partitions 6 --config retention.ms=86400000
  weir topic create events --config cleanup.policy=compact --validate-only`,
		Args: minArgs(1, "at least one topic name"),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			if partitions == 0 || partitions < -1 {
				return usageErrorf(cmd, "--partitions %d: want a positive count, or -1 for the broker's default", partitions)
			}
			if replication == 0 || replication < -1 {
				return usageErrorf(cmd, "--replication-factor %d: want a positive count, or -1 for the broker's default", replication)
			}
			pairs, err := parseKeyValues("config", configs)
			if err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			request := topicCreation{partitions, replication, pairs, validateOnly}
			return createTopics(cmd, conn, request, topics)
		},
	}
	f := cmd.Flags()
	f.Int32Var(&partitions, "partitions", -1, "number of partitions (-1: the broker's default)")
	f.Int16Var(&replication, "replication-factor", -1, "copies of each partition (-1: the broker's default)")
	f.StringArrayVar(&configs, "config", nil, "topic config as name=value; repeat for several")
	f.BoolVar(&validateOnly, "validate-only", false, "have the broker check the request without creating anything")
	return cmd
}

// topicCreation is what `weir topic create` asks for.
type topicCreation struct {
	partitions   int32
	replication  int16
	configs      []keyValue
	validateOnly bool
}

// createdTopic is a topic in `weir topic create --output json`.
type createdTopic struct {
	Topic             string `json:"topic"`
	ID                string `json:"id,omitempty"`
	Partitions        int32  `json:"partitions"`
	ReplicationFactor int16  `json:"replication_factor"`
	ValidateOnly      bool   `json:"validate_only"`
}

func createTopics(cmd *cobra.Command, conn *connection, req topicCreation, topics []string) error {
	adm, ctx, done, err := conn.adminSession(cmd)
	if err != nil {
		return err
	}
	defer done()
	configs := make(map[string]*string, len(req.configs))
	for _, kv := range req.configs {
		configs[kv.key] = &kv.value
	}
	create := adm.CreateTopics
	if req.validateOnly {
		create = adm.ValidateCreateTopics
	}
	responses, err := create(ctx, req.partitions, req.replication, configs, topics...)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	var errs []error
	created := []createdTopic{}
	for _, topic := range topics {
		r, err := responses.On(topic, nil)
		if err == nil {
			err = r.Err
		}
		if err != nil {
			errs = append(errs, topicError("create", topic, err, r.ErrMessage))
			continue
		}
		created = append(created, createdTopic{topic, formatTopicID(r.ID), r.NumPartitions, r.ReplicationFactor, req.validateOnly})
	}
	if err := printCreated(cmd, conn, created); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func printCreated(cmd *cobra.Command, conn *connection, created []createdTopic) error {
	out := cmd.OutOrStdout()
	if conn.json() {
		return writeJSON(out, created)
	}
	for _, c := range created {
		verb := "created"
		if c.ValidateOnly {
			verb = "validated (nothing created):"
		}
		if _, err := fmt.Fprintf(out, "%s topic %s: %s, replication factor %d\n", verb, c.Topic, plural(int(c.Partitions), "partition"), c.ReplicationFactor); err != nil {
			return err
		}
	}
	return nil
}

// plural writes "1 partition" or "3 partitions".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
