// Command weir is Weir's single binary: the broker, the command-line tools
// and the benchmarks.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "weir:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "weir",
		Short:         "Weir: a durable, replayable, partitioned log that speaks the Kafka protocol",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.AddCommand(newServeCommand())
	root.AddCommand(newBenchCommand())
	return root
}

func newBenchCommand() *cobra.Command {
	bench := &cobra.Command{
		Use:   "bench",
		Short: "Measure Weir's performance",
	}
	bench.AddCommand(newBenchStorageCommand())
	return bench
}
