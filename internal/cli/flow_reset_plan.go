package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weir-io/weir/flow"
)

// Roles of the topics whose offsets `weir flow reset` moves.
const (
	inputRole        = "input"
	intermediateRole = "intermediate"
)

// flowReset is the plan of `weir flow reset`, found before anything
// changes, and what has been carried out of it; it is also the command's
// --output json.
type flowReset struct {
	Application string `json:"application"`
	DryRun      bool   `json:"dry_run"`
	// Offsets are the group's new offsets: the input topics' partitions,
	// then the intermediate topics'.
	Offsets []flowOffset `json:"offsets"`
	// OffsetsReset says the new offsets were committed.
	OffsetsReset   bool                `json:"offsets_reset"`
	InternalTopics []flowInternalTopic `json:"internal_topics"`
	StateDir       flowStateDir        `json:"state_dir"`
}

// flowOffset is one partition of the plan: an input or intermediate
// topic's partition, its committed offset and its new one.
type flowOffset struct {
	plannedOffset
	Role string `json:"role"`
}

// flowInternalTopic is an internal topic the reset deletes.
type flowInternalTopic struct {
	Topic   string `json:"topic"`
	Deleted bool   `json:"deleted"`
}

// flowStateDir is the application's local state directory on this
// machine; Exists is false when it has none here.
type flowStateDir struct {
	Path    string `json:"path"`
	Exists  bool   `json:"exists"`
	Deleted bool   `json:"deleted"`
}

// planFlowReset finds everything the reset is to do: the new offsets,
// the internal topics, the state directory. It changes nothing.
func planFlowReset(ctx context.Context, adm *kadm.Client, req flowResetRequest) (*flowReset, error) {
	plan := &flowReset{Application: req.app, DryRun: req.dryRun, Offsets: []flowOffset{}, InternalTopics: []flowInternalTopic{}}
	for _, step := range []struct {
		role   string
		topics []string
		spec   resetSpec
	}{
		{inputRole, req.input, req.spec},
		{intermediateRole, req.intermediate, resetSpec{kind: resetToLatest}},
	} {
		offsets, err := planTopicOffsets(ctx, adm, req.app, step.topics, step.spec)
		if err != nil {
			return nil, fmt.Errorf("%s topics: %w", step.role, err)
		}
		for _, o := range offsets {
			plan.Offsets = append(plan.Offsets, flowOffset{o, step.role})
		}
	}
	existing, err := listTopicNames(ctx, adm)
	if err != nil {
		return nil, err
	}
	internal, err := internalTopics(req, existing)
	if err != nil {
		return nil, err
	}
	for _, topic := range internal {
		plan.InternalTopics = append(plan.InternalTopics, flowInternalTopic{Topic: topic})
	}
	if plan.StateDir, err = findStateDir(req.stateDir); err != nil {
		return nil, err
	}
	return plan, nil
}

// planTopicOffsets plans the new offsets of all the partitions of topics,
// each of which must exist, as `weir group reset-offsets --topic` does.
func planTopicOffsets(ctx context.Context, adm *kadm.Client, group string, topics []string, spec resetSpec) ([]plannedOffset, error) {
	if len(topics) == 0 {
		return nil, nil
	}
	scopes := make([]topicScope, len(topics))
	for i, topic := range topics {
		scopes[i] = topicScope{topic: topic}
	}
	return planGroupReset(ctx, adm, group, resetRequest{spec: spec, scopes: scopes})
}

// listTopicNames lists the names of the cluster's topics, sorted.
func listTopicNames(ctx context.Context, adm *kadm.Client) ([]string, error) {
	details, err := adm.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var names []string
	for _, d := range details {
		if !errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
			names = append(names, d.Topic)
		}
	}
	slices.Sort(names)
	return names, nil
}

// internalTopics returns, sorted, the internal topics the reset deletes
// among the existing topics: those named with --internal-topics, each of
// which must exist (as Kafka's tool requires), or every topic named as an
// internal topic of the application. An input or intermediate topic
// cannot be one of them: its offsets would be reset, then the topic
// deleted.
func internalTopics(req flowResetRequest, existing []string) ([]string, error) {
	var internal []string
	if req.internalSet {
		for _, topic := range req.internal {
			if !slices.Contains(existing, topic) {
				return nil, topicError("delete", topic, kerr.UnknownTopicOrPartition, "")
			}
		}
		internal = slices.Sorted(slices.Values(req.internal))
	} else {
		for _, topic := range existing {
			if flow.IsInternalTopic(req.app, topic) {
				internal = append(internal, topic)
			}
		}
	}
	for _, topic := range internal {
		if slices.Contains(req.input, topic) || slices.Contains(req.intermediate, topic) {
			return nil, fmt.Errorf("topic %s is an internal topic of application %s, which the reset deletes: it cannot also be an input or intermediate topic", topic, req.app)
		}
	}
	return internal, nil
}

// findStateDir looks for the application's state directory at path. Its
// absence is no error: the application may have run on another machine.
func findStateDir(path string) (flowStateDir, error) {
	dir := flowStateDir{Path: path}
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return dir, nil
	case err != nil:
		return dir, fmt.Errorf("look up state directory: %w", err)
	case !info.IsDir():
		return dir, fmt.Errorf("state directory %s is not a directory", path)
	}
	dir.Exists = true
	return dir, nil
}
