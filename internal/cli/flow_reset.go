package cli

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/weir-io/weir/flow"
)

// newFlowResetCommand is `weir flow reset`, Weir's counterpart of Kafka's
// application reset tool (kafka-streams-application-reset.sh).
func newFlowResetCommand(conn *connection) *cobra.Command {
	var f flowResetFlags
	cmd := &cobra.Command{
		Use:   "reset APPLICATION-ID [--input-topics T,...] [--intermediate-topics T,...] [--to-earliest | --to-latest | --to-offset N | --to-datetime TIME | --by-duration D] [--internal-topics T,...] [--state-dir DIR] [--dry-run]",
		Short: "Reset a stopped application so that it reprocesses its input from scratch",
		Long: `Reset a stream-processing application so that its next start reprocesses
its input, as Kafka's application reset tool does. In this order:

  1. refuse if the application's consumer group (named after the
     application id) has members: stop every instance first;
  2. move the group's committed offsets: those of the input topics' partitions
     to the position chosen (the earliest offset by default), those of the
     intermediate topics' partitions to their end;
  3. delete the application's internal topics (changelogs and repartition
     topics): every topic named "<application-id>-<name>-changelog" or
     "<application-id>-<name>-repartition", or those named with
     --internal-topics;
  4. delete the application's local state directory on this machine,
     <state-dir>/<application-id>, if there is one: an instance that ran
     on another machine left its state there, to be deleted there.

Nothing changes until everything has been found: a missing input topic,
say, stops the reset before step 2. A step that fails stops the reset;
running the command again finishes it. With --dry-run every step is
printed and nothing changes.`,
		Example: `  weir flow reset wordcount --input-topics words --dry-run
  weir flow reset wordcount --input-topics words,phrases --intermediate-topics words-by-user
  weir flow reset wordcount --input-topics words --to-datetime 2024-05-01T00:00:00Z --state-dir /var/lib/wordcount`,
		Args: exactArgs(1, "one application id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			fl := cmd.Flags()
			f.position.toOffsetSet = fl.Changed("to-offset")
			f.internalSet = fl.Changed("internal-topics")
			req, err := f.request(args[0], time.Now(), time.Local)
			if err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			return resetFlowApplication(cmd, conn, req)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.input, "input-topics", nil, "the application's input topics, comma-separated: the group's offsets of all their partitions are reset")
	fl.StringSliceVar(&f.intermediate, "intermediate-topics", nil, "topics the application writes and reads back, comma-separated: the group's offsets are moved to their end")
	fl.BoolVar(&f.position.toEarliest, "to-earliest", false, "move the input topics' offsets to each partition's log start offset (the default)")
	fl.BoolVar(&f.position.toLatest, "to-latest", false, "move the input topics' offsets to each partition's log end offset")
	fl.Int64Var(&f.position.toOffset, "to-offset", 0, "move the input topics' offsets to this offset, kept within each partition's log")
	fl.StringVar(&f.position.toDatetime, "to-datetime", "", "move the input topics' offsets to the first record at or after this time: RFC 3339, or 2006-01-02T15:04:05.000 in the local zone")
	fl.StringVar(&f.position.byDuration, "by-duration", "", "move the input topics' offsets to the first record at or after this long ago: 1h30m, or ISO-8601 as PT1H30M")
	fl.StringSliceVar(&f.internal, "internal-topics", nil, "the internal topics to delete, comma-separated (default: every existing topic named APPLICATION-ID-NAME-changelog or APPLICATION-ID-NAME-repartition)")
	fl.StringVar(&f.stateDir, "state-dir", flow.DefaultStateDir(), "the directory under which the application keeps its local state (flow.Config.StateDir)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print what the reset would do and change nothing")
	return cmd
}

// flowResetFlags are the values of `weir flow reset`'s flags.
type flowResetFlags struct {
	// position chooses where the input topics' offsets go.
	position            resetFlags
	input, intermediate []string
	internal            []string
	// internalSet says --internal-topics was given, perhaps empty.
	internalSet bool
	stateDir    string
	dryRun      bool
}

// flowResetRequest is what `weir flow reset` was asked to do, checked.
type flowResetRequest struct {
	app string
	// spec says where the input topics' offsets go; the intermediate
	// topics' go to their end.
	spec                resetSpec
	input, intermediate []string
	// internal are the internal topics named with --internal-topics;
	// when internalSet is false they are found by name.
	internal    []string
	internalSet bool
	// stateDir is the application's own local state directory.
	stateDir string
	dryRun   bool
}

// request checks the flags and the application id. now and loc are the
// clock and the time zone of --by-duration and --to-datetime.
func (f flowResetFlags) request(app string, now time.Time, loc *time.Location) (flowResetRequest, error) {
	if err := checkApplicationID(app); err != nil {
		return flowResetRequest{}, err
	}
	position := f.position
	if !position.toLatest && !position.toOffsetSet && position.toDatetime == "" && position.byDuration == "" {
		position.toEarliest = true // the default, as Kafka's tool has it
	}
	spec, err := parseResetSpec(position, now, loc)
	if err != nil {
		return flowResetRequest{}, err
	}
	req := flowResetRequest{app: app, spec: spec, internalSet: f.internalSet, dryRun: f.dryRun}
	if req.input, err = topicList("--input-topics", f.input); err != nil {
		return flowResetRequest{}, err
	}
	if req.intermediate, err = topicList("--intermediate-topics", f.intermediate); err != nil {
		return flowResetRequest{}, err
	}
	if req.internal, err = topicList("--internal-topics", f.internal); err != nil {
		return flowResetRequest{}, err
	}
	for _, topic := range req.input {
		if slices.Contains(req.intermediate, topic) {
			return flowResetRequest{}, fmt.Errorf("topic %s is named both with --input-topics and --intermediate-topics", topic)
		}
	}
	for _, topic := range req.internal {
		if !flow.IsInternalTopic(app, topic) {
			return flowResetRequest{}, fmt.Errorf("--internal-topics: %s is not an internal topic of application %s (%s or %s)",
				topic, app, flow.ChangelogTopic(app, "NAME"), flow.RepartitionTopic(app, "NAME"))
		}
	}
	if f.stateDir == "" {
		return flowResetRequest{}, fmt.Errorf("--state-dir: no directory given")
	}
	req.stateDir = flow.AppStateDir(f.stateDir, app)
	return req, nil
}

// applicationIDPattern holds the characters Kafka allows in topic names:
// an application id starts its internal topics' names. It also keeps the
// id a single path element, so that the state directory deleted is
// always inside --state-dir.
var applicationIDPattern = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// checkApplicationID refuses an application id that cannot name topics
// or that would lead the state directory out of --state-dir ("..").
func checkApplicationID(app string) error {
	if !applicationIDPattern.MatchString(app) || app == "." || app == ".." {
		return fmt.Errorf("application id %q: want letters, digits, '.', '_' and '-' (as in topic names)", app)
	}
	return nil
}

// topicList cleans a comma-separated list of topics given with flag:
// spaces trimmed, duplicates dropped, an empty name refused.
func topicList(flag string, values []string) ([]string, error) {
	topics := make([]string, 0, len(values))
	for _, v := range values {
		topic := strings.TrimSpace(v)
		if topic == "" {
			return nil, fmt.Errorf("%s: an empty topic name", flag)
		}
		topics = append(topics, topic)
	}
	return dedupe(topics), nil
}
