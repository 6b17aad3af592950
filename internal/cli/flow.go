package cli

import (
	"github.com/spf13/cobra"
)

// NewFlowCommand returns `weir flow`: tools for the stream-processing
// applications written with package flow (github.com/weir-io/weir/flow).
//
// An application is known by its application id, which names what it
// keeps outside its process (flow/naming.go): its consumer group, its
// internal topics ("<id>-<name>-changelog", "<id>-<name>-repartition")
// and its local state directory. The commands find them by these names,
// as Kafka's tools find a Kafka Streams application's.
func NewFlowCommand() *cobra.Command {
	conn := &connection{}
	cmd := newParentCommand("flow", "Manage stream-processing applications: reset one to reprocess its input")
	conn.addFlags(cmd)
	cmd.AddCommand(newFlowResetCommand(conn))
	return cmd
}
