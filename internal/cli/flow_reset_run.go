package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// resetFlowApplication checks that the application is stopped, plans the
// reset and carries it out step by step (with --dry-run, only prints it).
// A step that fails stops the reset: the later steps would leave the
// application inconsistent (its local state deleted while its changelog
// is kept, say), and running the command again finishes the reset.
//
// Table output reports each step as it is done; JSON output is the plan
// with what was done of it, printed at the end, also after a failed step.
func resetFlowApplication(cmd *cobra.Command, conn *connection, req flowResetRequest) error {
	cl, adm, ctx, done, err := conn.clientSession(cmd)
	if err != nil {
		return err
	}
	defer done()
	if err := checkInactive(ctx, cl, req.app); err != nil {
		return err
	}
	plan, err := planFlowReset(ctx, adm, req)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	r := &flowReporter{w: out, silent: conn.json()}
	r.printf("group %s has no active members\n", req.app)
	stepErr := runFlowReset(ctx, adm, plan, r)
	if conn.json() {
		if err := writeJSON(out, plan); err != nil {
			return err
		}
	}
	return errors.Join(stepErr, r.err)
}

// runFlowReset carries out the steps of plan in order, recording in it
// what was done, until one fails.
func runFlowReset(ctx context.Context, adm *kadm.Client, plan *flowReset, r *flowReporter) error {
	if err := resetFlowOffsets(ctx, adm, plan, r); err != nil {
		return err
	}
	if err := deleteInternalTopics(ctx, adm, plan, r); err != nil {
		return err
	}
	if err := deleteStateDir(plan, r); err != nil {
		return err
	}
	if plan.DryRun {
		r.printf("\ndry run: nothing changed; run again without --dry-run to reset application %s\n", plan.Application)
	}
	return nil
}

// resetFlowOffsets prints the new offsets and commits them, all in one
// OffsetCommit request.
func resetFlowOffsets(ctx context.Context, adm *kadm.Client, plan *flowReset, r *flowReporter) error {
	if len(plan.Offsets) == 0 {
		r.printf("no input or intermediate topics named: no offsets to reset\n")
		return nil
	}
	r.table(plan.Offsets)
	summary := fmt.Sprintf("the offsets of group %s in %s", plan.Application, plural(len(plan.Offsets), "partition"))
	if plan.DryRun {
		r.printf("\nwould reset %s\n", summary)
		return nil
	}
	offsets := make([]plannedOffset, len(plan.Offsets))
	for i, o := range plan.Offsets {
		offsets[i] = o.plannedOffset
	}
	if errs := commitPlan(ctx, adm, plan.Application, offsets); len(errs) > 0 {
		return errors.Join(errs...)
	}
	plan.OffsetsReset = true
	r.printf("\nreset %s\n", summary)
	return nil
}

// deleteInternalTopics deletes the internal topics, which deletes the
// group's offsets of them too. A topic deleted meanwhile by someone else
// counts as deleted.
func deleteInternalTopics(ctx context.Context, adm *kadm.Client, plan *flowReset, r *flowReporter) error {
	if len(plan.InternalTopics) == 0 {
		r.printf("no internal topics of application %s to delete\n", plan.Application)
		return nil
	}
	if plan.DryRun {
		for _, t := range plan.InternalTopics {
			r.printf("would delete internal topic %s\n", t.Topic)
		}
		return nil
	}
	topics := make([]string, len(plan.InternalTopics))
	for i, t := range plan.InternalTopics {
		topics[i] = t.Topic
	}
	responses, err := adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("delete internal topics: %w", err)
	}
	var errs []error
	for i, topic := range topics {
		resp, err := responses.On(topic, nil)
		if err == nil {
			err = resp.Err
		}
		switch {
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			r.printf("internal topic %s was already deleted\n", topic)
		case err != nil:
			errs = append(errs, topicError("delete", topic, err, resp.ErrMessage))
			continue
		default:
			r.printf("deleted internal topic %s\n", topic)
		}
		plan.InternalTopics[i].Deleted = true
	}
	return errors.Join(errs...)
}

// deleteStateDir deletes the application's local state directory, if it
// has one on this machine.
func deleteStateDir(plan *flowReset, r *flowReporter) error {
	dir := &plan.StateDir
	switch {
	case !dir.Exists:
		r.printf("no state directory %s on this machine: nothing to delete here\n", dir.Path)
		return nil
	case plan.DryRun:
		r.printf("would delete state directory %s\n", dir.Path)
		return nil
	}
	if err := os.RemoveAll(dir.Path); err != nil {
		return fmt.Errorf("delete state directory %s: %w", dir.Path, err)
	}
	dir.Deleted = true
	r.printf("deleted state directory %s\n", dir.Path)
	return nil
}

// flowReporter writes the steps of a reset for people as they are done;
// it is silent for --output json. It keeps the first write error, so
// that a step is not stopped by a closed stdout.
type flowReporter struct {
	w      io.Writer
	silent bool
	err    error
}

func (r *flowReporter) printf(format string, args ...any) {
	if r.silent || r.err != nil {
		return
	}
	_, r.err = fmt.Fprintf(r.w, format, args...)
}

// table writes the new offsets.
func (r *flowReporter) table(offsets []flowOffset) {
	if r.silent || r.err != nil {
		return
	}
	tab := newTable(r.w, "TOPIC", "PARTITION", "ROLE", "CURRENT-OFFSET", "NEW-OFFSET")
	for _, o := range offsets {
		tab.row(o.Topic, o.Partition, o.Role, orDashInt(o.CurrentOffset), o.NewOffset)
	}
	r.err = tab.flush()
}
