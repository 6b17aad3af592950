package cli

import (
	"github.com/spf13/cobra"
)

// NewGroupCommand returns `weir group`: list, describe and delete consumer
// groups, reset their committed offsets and delete them.
//
// Groups come in two kinds, as Kafka 4 has them: classic groups, whose
// members join with JoinGroup and SyncGroup and are described with
// DescribeGroups, and consumer groups (KIP-848), whose members heartbeat
// with ConsumerGroupHeartbeat and are described with ConsumerGroupDescribe.
// ListGroups tells which kind a group is; the commands ask each group in
// the words of its kind.
func NewGroupCommand() *cobra.Command {
	conn := &connection{}
	cmd := newParentCommand("group", "List, describe and delete consumer groups; reset and delete their offsets")
	conn.addFlags(cmd)
	cmd.AddCommand(
		newGroupListCommand(conn),
		newGroupDescribeCommand(conn),
		newGroupDeleteCommand(conn),
		newGroupResetOffsetsCommand(conn),
		newGroupDeleteOffsetsCommand(conn),
	)
	return cmd
}

// Group types, as ListGroups (v5) names them.
const (
	classicGroup  = "classic"
	consumerGroup = "consumer"
)

// groupTypes are the types --type accepts.
var groupTypes = []string{classicGroup, consumerGroup}

// groupStates are the states --state accepts: Kafka's names of the states
// of classic and consumer groups.
var groupStates = []string{
	"Empty", "Stable", "PreparingRebalance", "CompletingRebalance", // classic
	"Assigning", "Reconciling", // consumer (KIP-848)
	"Dead",
}

// groupInactive reports whether a group in state has no members: only then
// may its offsets be reset, as Kafka requires.
func groupInactive(state string) bool {
	return state == "Empty" || state == "Dead"
}
