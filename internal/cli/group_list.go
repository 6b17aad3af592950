package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// newGroupListCommand is `weir group list`.
func newGroupListCommand(conn *connection) *cobra.Command {
	var states, types []string
	cmd := &cobra.Command{
		Use:   "list [--state STATE]... [--type classic|consumer]",
		Short: "List the consumer groups with their types and states",
		Long: `List the groups the cluster coordinates: their type (classic: members join
with JoinGroup/SyncGroup; consumer: KIP-848 members), state and protocol type.
--state and --type keep only the groups in one of the states or of one of
the types given (repeat the flag or separate values with commas).`,
		Example: `  weir group list
  weir group list --state Empty
  weir group list --type consumer --output json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			filter, err := parseGroupFilter(states, types)
			if err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			cl, _, ctx, done, err := conn.clientSession(cmd)
			if err != nil {
				return err
			}
			defer done()
			groups, listErr := listGroups(ctx, cl, filter)
			if groups == nil {
				return listErr
			}
			if err := printGroupList(cmd, conn, groups); err != nil {
				return err
			}
			return listErr
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&states, "state", nil, "only groups in this state: "+strings.Join(groupStates, ", ")+" (case does not matter)")
	f.StringSliceVar(&types, "type", nil, "only groups of this type: classic or consumer")
	return cmd
}

// listedGroup is a group as ListGroups tells it, and a group in `weir
// group list --output json`.
type listedGroup struct {
	Group        string `json:"group"`
	Type         string `json:"type"`
	State        string `json:"state"`
	ProtocolType string `json:"protocol_type"`
	Coordinator  int32  `json:"coordinator"`
}

// groupFilter is what --state and --type keep; empty keeps everything.
type groupFilter struct {
	states, types []string
}

// parseGroupFilter checks --state and --type and writes their values as
// Kafka does (states "Stable", types "classic"), whatever their case.
func parseGroupFilter(states, types []string) (groupFilter, error) {
	var f groupFilter
	for _, s := range states {
		name, ok := canonicalName(groupStates, s)
		if !ok {
			return groupFilter{}, fmt.Errorf("--state %q: want one of %s", s, strings.Join(groupStates, ", "))
		}
		f.states = append(f.states, name)
	}
	for _, t := range types {
		name, ok := canonicalName(groupTypes, t)
		if !ok {
			return groupFilter{}, fmt.Errorf("--type %q: want classic or consumer", t)
		}
		f.types = append(f.types, name)
	}
	return f, nil
}

// canonicalName returns the name of names that s is, ignoring case.
func canonicalName(names []string, s string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, n := range names {
		if strings.EqualFold(n, s) {
			return n, true
		}
	}
	return "", false
}

// keeps reports whether the filter keeps g.
func (f groupFilter) keeps(g listedGroup) bool {
	return (len(f.states) == 0 || slices.Contains(f.states, g.State)) &&
		(len(f.types) == 0 || slices.Contains(f.types, g.Type))
}

// listGroups asks every broker for the groups it coordinates (ListGroups;
// kadm's ListGroups leaves out the group types) and returns those the
// filter keeps, sorted by name. The filter is sent to the brokers, and
// applied here too for brokers that ignore it (older than ListGroups v4
// for states, v5 for types). A broker that does not give types (before v5)
// has only classic groups.
func listGroups(ctx context.Context, cl *kgo.Client, filter groupFilter) ([]listedGroup, error) {
	req := kmsg.NewPtrListGroupsRequest()
	req.StatesFilter = filter.states
	req.TypesFilter = filter.types
	var errs []error
	groups := []listedGroup{}
	shards := cl.RequestSharded(ctx, req)
	for _, shard := range shards {
		if shard.Err != nil {
			errs = append(errs, fmt.Errorf("list groups of broker %d: %w", shard.Meta.NodeID, shard.Err))
			continue
		}
		resp := shard.Resp.(*kmsg.ListGroupsResponse)
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			errs = append(errs, &kafkaError{fmt.Sprintf("list groups of broker %d: %s", shard.Meta.NodeID, describeError(err, "")), err})
			continue
		}
		for _, g := range resp.Groups {
			l := listedGroup{Group: g.Group, Type: g.GroupType, State: g.GroupState, ProtocolType: g.ProtocolType, Coordinator: shard.Meta.NodeID}
			if l.Type == "" {
				l.Type = classicGroup
			}
			if filter.keeps(l) {
				groups = append(groups, l)
			}
		}
	}
	if len(errs) == len(shards) {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(groups, func(a, b listedGroup) int { return strings.Compare(a.Group, b.Group) })
	return groups, errors.Join(errs...)
}

func printGroupList(cmd *cobra.Command, conn *connection, groups []listedGroup) error {
	if conn.json() {
		return writeJSON(cmd.OutOrStdout(), groups)
	}
	tab := newTable(cmd.OutOrStdout(), "GROUP", "TYPE", "STATE", "PROTOCOL-TYPE")
	for _, g := range groups {
		tab.row(g.Group, g.Type, orDash(g.State), orDash(g.ProtocolType))
	}
	return tab.flush()
}

// orDash is s, or "-" when s is empty, for table cells.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
