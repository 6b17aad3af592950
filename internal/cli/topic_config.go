package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// newTopicAlterConfigCommand is `weir topic alter-config`.
func newTopicAlterConfigCommand(conn *connection) *cobra.Command {
	var sets, deletes []string
	cmd := &cobra.Command{
		Use:   "alter-config TOPIC...",
		Short: "Set or remove topic configs (incremental: other configs keep their values)",
		Long: `Set configs on topics with --set name=value and remove them with --delete name
(the config then falls back to its default). Configs not named keep their
values: the change is made with IncrementalAlterConfigs.`,
		Example: `  weir topic alter-config orders --set retention.ms=3600000 --set cleanup.policy=compact
  weir topic alter-config orders --delete retention.ms`,
		Args: minArgs(1, "at least one topic name"),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			change, err := parseConfigChange(sets, deletes)
			if err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			return alterTopicConfigs(cmd, conn, change, topics)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&sets, "set", nil, "set a config, as name=value; repeat for several")
	f.StringArrayVar(&deletes, "delete", nil, "remove a config set on the topic (back to its default); repeat for several")
	return cmd
}

// configChange is what `weir topic alter-config` asks for.
type configChange struct {
	set    []keyValue
	delete []string
}

func parseConfigChange(sets, deletes []string) (configChange, error) {
	set, err := parseKeyValues("set", sets)
	if err != nil {
		return configChange{}, err
	}
	if len(set) == 0 && len(deletes) == 0 {
		return configChange{}, errors.New("nothing to change: give --set name=value or --delete name")
	}
	named := make(map[string]bool)
	for _, kv := range set {
		if named[kv.key] {
			return configChange{}, fmt.Errorf("config %s named twice", kv.key)
		}
		named[kv.key] = true
	}
	for _, name := range deletes {
		if name == "" || named[name] {
			return configChange{}, fmt.Errorf("--delete %q: want a config name not otherwise named", name)
		}
		named[name] = true
	}
	return configChange{set, deletes}, nil
}

// alteredTopic is a topic in `weir topic alter-config --output json`.
type alteredTopic struct {
	Topic   string            `json:"topic"`
	Set     map[string]string `json:"set"`
	Deleted []string          `json:"deleted"`
}

func alterTopicConfigs(cmd *cobra.Command, conn *connection, change configChange, topics []string) error {
	adm, ctx, done, err := conn.adminSession(cmd)
	if err != nil {
		return err
	}
	defer done()
	var alters []kadm.AlterConfig
	for _, kv := range change.set {
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: kv.key, Value: kadm.StringPtr(kv.value)})
	}
	for _, name := range change.delete {
		alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: name})
	}
	responses, err := adm.AlterTopicConfigs(ctx, alters, topics...)
	if err != nil {
		return fmt.Errorf("alter configs: %w", err)
	}
	var errs []error
	altered := []alteredTopic{}
	for _, topic := range topics {
		r, err := responses.On(topic, nil)
		if err == nil {
			err = r.Err
		}
		if err != nil {
			errs = append(errs, topicError("alter configs of", topic, err, r.ErrMessage))
			continue
		}
		a := alteredTopic{Topic: topic, Set: map[string]string{}, Deleted: append([]string{}, change.delete...)}
		for _, kv := range change.set {
			a.Set[kv.key] = kv.value
		}
		altered = append(altered, a)
	}
	if err := printAltered(cmd.OutOrStdout(), conn, change, altered); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func printAltered(w io.Writer, conn *connection, change configChange, altered []alteredTopic) error {
	if conn.json() {
		return writeJSON(w, altered)
	}
	var what []string
	for _, kv := range change.set {
		what = append(what, "set "+kv.key+"="+kv.value)
	}
	for _, name := range change.delete {
		what = append(what, "deleted "+name)
	}
	for _, a := range altered {
		if _, err := fmt.Fprintf(w, "altered configs of topic %s: %s\n", a.Topic, strings.Join(what, ", ")); err != nil {
			return err
		}
	}
	return nil
}
