package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// UsageError is an error in how a command was invoked: an unknown flag or
// command, a bad flag value, a wrong number of arguments. ExitCode maps it to
// exit code 2.
type UsageError struct {
	// Command is the path of the command that was misused ("weir topic
	// create"), empty when unknown.
	Command string
	// Err says what was wrong.
	Err error
}

// Error returns the message followed by a hint to the command's help.
func (e *UsageError) Error() string {
	if e.Command == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%v (see '%s --help')", e.Err, e.Command)
}

// Unwrap returns the underlying error.
func (e *UsageError) Unwrap() error { return e.Err }

// ExitCode is the process exit code for the error a command returned: 0 for
// nil, 2 for a *UsageError, 1 for anything else.
func ExitCode(err error) int {
	var usage *UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		return 2
	default:
		return 1
	}
}

// FlagError turns cobra's flag parsing errors into usage errors. Install it
// with (*cobra.Command).SetFlagErrorFunc; the commands of this package
// install it on themselves.
func FlagError(cmd *cobra.Command, err error) error {
	return &UsageError{Command: cmd.CommandPath(), Err: err}
}

// NoArgs is a cobra.PositionalArgs that rejects any argument as an unknown
// command, with a usage error. On a command that only groups subcommands it
// makes `weir topic bogus` a usage error instead of a silent help page.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2 // cobra's default
		}
		if suggestions := cmd.SuggestionsFor(args[0]); len(suggestions) > 0 {
			msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(suggestions, " or "))
		}
		return &UsageError{Command: cmd.CommandPath(), Err: errors.New(msg)}
	}
	return nil
}

// ShowHelp is a cobra RunE that prints the command's help: the action of a
// command that only groups subcommands.
func ShowHelp(cmd *cobra.Command, _ []string) error {
	return cmd.Help()
}

// usageErrorf returns a *UsageError for cmd.
func usageErrorf(cmd *cobra.Command, format string, args ...any) error {
	return &UsageError{Command: cmd.CommandPath(), Err: fmt.Errorf(format, args...)}
}

// exactArgs requires n positional arguments, named in the message.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf(cmd, "want %s, got %d argument(s)", names, len(args))
		}
		return nil
	}
}

// minArgs requires at least n positional arguments, named in the message.
func minArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErrorf(cmd, "want %s", names)
		}
		return nil
	}
}

// newParentCommand is a command that only holds subcommands: alone it prints
// its help, with an unknown subcommand it is a usage error.
func newParentCommand(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  NoArgs,
		RunE:  ShowHelp,
	}
}
