package cli

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// newTopicDescribeCommand is `weir topic describe`.
func newTopicDescribeCommand(conn *connection) *cobra.Command {
	return &cobra.Command{
		Use:   "describe TOPIC...",
		Short: "Show topics' partitions (leader, replicas, offsets) and configs",
		Long: `Show each topic's partitions, with their leader, replicas, in-sync replicas
and log start and end offsets, and the topic's configs with where each value
comes from (DYNAMIC_TOPIC_CONFIG: set on the topic; DEFAULT_CONFIG: the
default; the other sources are Kafka's).`,
		Example: `  weir topic describe orders
  weir topic describe orders --output json | jq '.[0].partitions'`,
		Args: minArgs(1, "at least one topic name"),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			return describeTopics(cmd, conn, topics)
		},
	}
}

// describedTopic is a topic in `weir topic describe --output json`.
type describedTopic struct {
	Topic             string               `json:"topic"`
	ID                string               `json:"id,omitempty"`
	ReplicationFactor int                  `json:"replication_factor"`
	Partitions        []describedPartition `json:"partitions"`
	Configs           []describedConfig    `json:"configs"`
}

// describedPartition is one partition of a describedTopic.
type describedPartition struct {
	Partition      int32   `json:"partition"`
	Leader         int32   `json:"leader"`
	Replicas       []int32 `json:"replicas"`
	ISR            []int32 `json:"isr"`
	LogStartOffset int64   `json:"log_start_offset"`
	LogEndOffset   int64   `json:"log_end_offset"`
}

// describedConfig is one config of a describedTopic. Value is null for a
// sensitive config or a config without a value.
type describedConfig struct {
	Name      string  `json:"name"`
	Value     *string `json:"value"`
	Source    string  `json:"source"`
	Sensitive bool    `json:"sensitive,omitempty"`
}

func describeTopics(cmd *cobra.Command, conn *connection, topics []string) error {
	adm, ctx, done, err := conn.adminSession(cmd)
	if err != nil {
		return err
	}
	defer done()
	details, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("describe topics: %w", err)
	}
	var errs []error
	var found []string
	for _, topic := range topics {
		d, ok := details[topic]
		switch {
		case !ok:
			errs = append(errs, topicError("describe", topic, errTopicMissing, ""))
		case d.Err != nil:
			errs = append(errs, topicError("describe", topic, d.Err, ""))
		default:
			found = append(found, topic)
		}
	}
	described := []describedTopic{}
	if len(found) > 0 {
		ranges, err := listOffsetRanges(ctx, adm, found...)
		if err != nil {
			return err
		}
		configs, err := adm.DescribeTopicConfigs(ctx, found...)
		if err != nil {
			return fmt.Errorf("describe configs: %w", err)
		}
		for _, topic := range found {
			rc, err := configs.On(topic, nil)
			if err == nil {
				err = rc.Err
			}
			if err != nil {
				errs = append(errs, topicError("describe configs of", topic, err, rc.ErrMessage))
				continue
			}
			described = append(described, describeTopic(details[topic], ranges[topic], rc))
		}
	}
	if err := printDescribed(cmd.OutOrStdout(), conn, described); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// errTopicMissing stands for a topic the metadata response left out.
var errTopicMissing = errors.New("the cluster did not describe the topic")

func describeTopic(d kadm.TopicDetail, ranges map[int32]offsetRange, rc kadm.ResourceConfig) describedTopic {
	t := describedTopic{Topic: d.Topic, ID: formatTopicID(d.ID), ReplicationFactor: d.Partitions.NumReplicas()}
	for _, p := range d.Partitions.Sorted() {
		r := ranges[p.Partition]
		t.Partitions = append(t.Partitions, describedPartition{p.Partition, p.Leader, p.Replicas, p.ISR, r.start, r.end})
	}
	t.Configs = []describedConfig{}
	for _, c := range rc.Configs {
		t.Configs = append(t.Configs, describedConfig{c.Key, c.Value, c.Source.String(), c.Sensitive})
	}
	sort.Slice(t.Configs, func(i, j int) bool { return t.Configs[i].Name < t.Configs[j].Name })
	return t
}

func printDescribed(w io.Writer, conn *connection, topics []describedTopic) error {
	if conn.json() {
		return writeJSON(w, topics)
	}
	for i, t := range topics {
		if i > 0 {
			fmt.Fprintln(w)
		}
		head := newTable(w)
		head.row("Topic:", t.Topic)
		head.row("ID:", t.ID)
		head.row("Partitions:", len(t.Partitions))
		head.row("Replication factor:", t.ReplicationFactor)
		if err := head.flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
		parts := newTable(w, "PARTITION", "LEADER", "REPLICAS", "ISR", "LOG-START-OFFSET", "LOG-END-OFFSET")
		for _, p := range t.Partitions {
			parts.row(p.Partition, p.Leader, joinInts(p.Replicas), joinInts(p.ISR), p.LogStartOffset, p.LogEndOffset)
		}
		if err := parts.flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
		configs := newTable(w, "CONFIG", "VALUE", "SOURCE")
		for _, c := range t.Configs {
			configs.row(c.Name, configValue(c), c.Source)
		}
		if err := configs.flush(); err != nil {
			return err
		}
	}
	return nil
}

// configValue is how a config's value reads in a table.
func configValue(c describedConfig) string {
	switch {
	case c.Sensitive:
		return "(sensitive)"
	case c.Value == nil:
		return "(none)"
	default:
		return *c.Value
	}
}
