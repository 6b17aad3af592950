package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// newGroupDeleteCommand is `weir group delete`.
func newGroupDeleteCommand(conn *connection) *cobra.Command {
	return &cobra.Command{
		Use:   "delete GROUP...",
		Short: "Delete groups that have no members, with their committed offsets",
		Long: `Delete groups and their committed offsets (DeleteGroups). A group that still
has members cannot be deleted (NON_EMPTY_GROUP): stop its consumers first.`,
		Example: `  weir group delete orders-app`,
		Args:    minArgs(1, "at least one group name"),
		RunE: func(cmd *cobra.Command, groups []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			return deleteGroups(cmd, conn, dedupe(groups))
		},
	}
}

// deletedGroup is a group in `weir group delete --output json`.
type deletedGroup struct {
	Group string `json:"group"`
}

func deleteGroups(cmd *cobra.Command, conn *connection, groups []string) error {
	adm, ctx, done, err := conn.adminSession(cmd)
	if err != nil {
		return err
	}
	defer done()
	responses, err := adm.DeleteGroups(ctx, groups...)
	if err != nil && len(responses) == 0 {
		return fmt.Errorf("delete groups: %w", err)
	}
	var errs []error
	deleted := []deletedGroup{}
	for _, group := range groups {
		r, ok := responses[group]
		switch {
		case !ok && err != nil:
			errs = append(errs, groupError("delete", group, err, ""))
		case !ok:
			errs = append(errs, groupError("delete", group, errors.New("no answer"), ""))
		case r.Err != nil:
			errs = append(errs, groupError("delete", group, r.Err, r.ErrMessage))
		default:
			deleted = append(deleted, deletedGroup{group})
		}
	}
	out := cmd.OutOrStdout()
	if conn.json() {
		if err := writeJSON(out, deleted); err != nil {
			return err
		}
	} else {
		for _, d := range deleted {
			if _, err := fmt.Fprintf(out, "deleted group %s\n", d.Group); err != nil {
				return err
			}
		}
	}
	return errors.Join(errs...)
}
