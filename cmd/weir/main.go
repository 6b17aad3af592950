// Command weir is Weir's single binary: the broker, the command-line tools
// and the benchmarks.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/weir-io/weir/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "weir:", err)
		os.Exit(cli.ExitCode(err)) // 2 for usage errors, 1 for the rest
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "weir",
		Short:         "Weir: a durable, replayable, partitioned log that speaks the Kafka protocol",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
		// An unknown command or flag is a usage error (exit code 2).
		Args: cli.NoArgs,
		RunE: cli.ShowHelp,
	}
	root.SetFlagErrorFunc(cli.FlagError)
	root.AddCommand(newServeCommand())
	root.AddCommand(newBenchCommand())
	root.AddCommand(cli.NewTopicCommand())
	root.AddCommand(cli.NewProduceCommand())
	root.AddCommand(cli.NewConsumeCommand())
	root.AddCommand(cli.NewClusterCommand())
	root.AddCommand(cli.NewGroupCommand())
	root.AddCommand(cli.NewTxnCommand(), cli.NewProducerCommand())
	root.AddCommand(cli.NewFlowCommand())
	return root
}

func newBenchCommand() *cobra.Command {
	bench := &cobra.Command{
		Use:   "bench",
		Short: "Measure Weir's performance",
	}
	bench.AddCommand(newBenchStorageCommand())
	bench.AddCommand(newBenchProduceCommand(), newBenchConsumeCommand(), newBenchE2ECommand(), newBenchConnectionsCommand())
	bench.AddCommand(newBenchGroupsCommand(), newBenchCommitsCommand(), newBenchTxnCommand())
	return bench
}
