package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// newGroupDescribeCommand is `weir group describe`.
func newGroupDescribeCommand(conn *connection) *cobra.Command {
	return &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show groups' state, members and assignments, committed offsets and lag",
		Long: `Show each group's type, state, protocol and epoch, its members (id, instance
id, client id, host) with the partitions assigned to them, and for every
partition assigned or with a committed offset: the committed offset, the log
end offset and the lag (end less committed). A partition without a commit
shows "-" as its committed offset and lags by the whole log (end less start).`,
		Example: `  weir group describe orders-app
  weir group describe orders-app --output json | jq '.[0].lag'`,
		Args: minArgs(1, "at least one group name"),
		RunE: func(cmd *cobra.Command, groups []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			return describeGroups(cmd, conn, dedupe(groups))
		},
	}
}

// describedGroup is a group in `weir group describe --output json`.
type describedGroup struct {
	Group        string `json:"group"`
	Type         string `json:"type"`
	State        string `json:"state"`
	ProtocolType string `json:"protocol_type"`
	// Protocol is the classic group's protocol, for consumers the name of
	// the assignor the members chose; the consumer group's assignor.
	Protocol string `json:"protocol"`
	// Epoch and AssignmentEpoch are a consumer group's group epoch and
	// target assignment epoch. DescribeGroups does not tell a classic
	// group's generation.
	Epoch           *int32        `json:"epoch,omitempty"`
	AssignmentEpoch *int32        `json:"assignment_epoch,omitempty"`
	Coordinator     int32         `json:"coordinator"`
	Members         []groupMember `json:"members"`
	Offsets         []offsetRow   `json:"offsets"`
	// Lag sums the known lags of Offsets.
	Lag int64 `json:"lag"`
}

// groupMember is one member of a describedGroup.
type groupMember struct {
	MemberID   string  `json:"member_id"`
	InstanceID *string `json:"instance_id"`
	ClientID   string  `json:"client_id"`
	Host       string  `json:"host"`
	// MemberEpoch is a consumer group member's epoch.
	MemberEpoch *int32          `json:"member_epoch,omitempty"`
	Assignment  []assignedTopic `json:"assignment"`
	// TargetAssignment is what a consumer group member is being moved to;
	// the same as Assignment once it has reconciled.
	TargetAssignment []assignedTopic `json:"target_assignment,omitempty"`
}

// assignedTopic is the partitions of one topic assigned to a member.
type assignedTopic struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

func describeGroups(cmd *cobra.Command, conn *connection, names []string) error {
	cl, adm, ctx, done, err := conn.clientSession(cmd)
	if err != nil {
		return err
	}
	defer done()
	listed, listErr := listGroups(ctx, cl, groupFilter{})
	if listed == nil {
		return listErr
	}
	described, errs := describeByType(ctx, adm, names, groupTypesOf(listed))
	if listErr != nil {
		errs = append(errs, listErr)
	}
	var found []string
	for _, name := range names {
		if _, ok := described[name]; ok {
			found = append(found, name)
		}
	}
	if err := addOffsets(ctx, adm, described, found); err != nil {
		return err
	}
	out := []describedGroup{}
	for _, name := range names {
		if g, ok := described[name]; ok {
			if g.fetchErr != nil {
				errs = append(errs, g.fetchErr)
				continue
			}
			out = append(out, g.describedGroup)
		}
	}
	if err := printDescribedGroups(cmd.OutOrStdout(), conn, out); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// groupTypesOf maps each listed group to its type.
func groupTypesOf(listed []listedGroup) map[string]string {
	types := make(map[string]string, len(listed))
	for _, g := range listed {
		types[g.Group] = g.Type
	}
	return types
}

// groupDescription is a described group on its way to the output: what
// describing it told, what assignment its members have, and what went
// wrong fetching its offsets.
type groupDescription struct {
	describedGroup
	assigned map[topicPartition]string
	fetchErr error
}

// describeByType describes the consumer groups (by their listed type) with
// ConsumerGroupDescribe and the others with DescribeGroups: a group not
// listed does not exist, which DescribeGroups confirms in its own words.
// It returns the groups that exist and an error for each that does not or
// could not be described.
func describeByType(ctx context.Context, adm *kadm.Client, names []string, types map[string]string) (map[string]*groupDescription, []error) {
	var classic, consumer []string
	for _, name := range names {
		if types[name] == consumerGroup {
			consumer = append(consumer, name)
		} else {
			classic = append(classic, name)
		}
	}
	described := make(map[string]*groupDescription)
	var errs []error
	if len(classic) > 0 {
		groups, err := adm.DescribeGroups(ctx, classic...)
		for _, name := range classic {
			g, ok := groups[name]
			switch {
			case !ok && err != nil:
				errs = append(errs, groupError("describe", name, err, ""))
			case !ok:
				errs = append(errs, groupError("describe", name, errors.New("no answer"), ""))
			case g.Err != nil:
				errs = append(errs, groupError("describe", name, g.Err, g.ErrMessage))
			case g.State == "Dead": // how DescribeGroups before v6 says it does not exist
				errs = append(errs, groupError("describe", name, kerr.GroupIDNotFound, ""))
			default:
				described[name] = fromClassicGroup(g)
			}
		}
	}
	if len(consumer) > 0 {
		groups, err := adm.DescribeConsumerGroups(ctx, consumer...)
		for _, name := range consumer {
			g, ok := groups[name]
			switch {
			case !ok && err != nil:
				errs = append(errs, groupError("describe", name, err, ""))
			case !ok:
				errs = append(errs, groupError("describe", name, errors.New("no answer"), ""))
			case g.Err != nil:
				errs = append(errs, groupError("describe", name, g.Err, ""))
			default:
				described[name] = fromConsumerGroup(g)
			}
		}
	}
	return described, errs
}

// fromClassicGroup turns a DescribeGroups answer into a description. The
// assignments of a group of protocol type "consumer" are decoded (kadm
// does it); those of other protocol types are opaque and left out.
func fromClassicGroup(g kadm.DescribedGroup) *groupDescription {
	d := &groupDescription{
		describedGroup: describedGroup{
			Group: g.Group, Type: classicGroup, State: g.State, ProtocolType: g.ProtocolType,
			Protocol: g.Protocol, Coordinator: g.Coordinator.NodeID, Members: []groupMember{},
		},
		assigned: make(map[topicPartition]string),
	}
	for _, m := range g.Members {
		member := groupMember{MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, Host: m.ClientHost, Assignment: []assignedTopic{}}
		if a, ok := m.Assigned.AsConsumer(); ok {
			set := make(kadm.TopicsSet)
			for _, t := range a.Topics {
				set.Add(t.Topic, t.Partitions...)
			}
			member.Assignment = assignedTopics(set)
			d.assign(m.MemberID, set)
		}
		d.Members = append(d.Members, member)
	}
	return d
}

// fromConsumerGroup turns a ConsumerGroupDescribe answer into a
// description. Lag is reckoned against the members' current assignments.
func fromConsumerGroup(g kadm.DescribedConsumerGroup) *groupDescription {
	epoch, assignmentEpoch := g.Epoch, g.AssignmentEpoch
	d := &groupDescription{
		describedGroup: describedGroup{
			Group: g.Group, Type: consumerGroup, State: g.State, ProtocolType: "consumer",
			Protocol: g.AssignorName, Epoch: &epoch, AssignmentEpoch: &assignmentEpoch,
			Coordinator: g.Coordinator.NodeID, Members: []groupMember{},
		},
		assigned: make(map[topicPartition]string),
	}
	for _, m := range g.Members {
		memberEpoch := m.MemberEpoch
		d.Members = append(d.Members, groupMember{
			MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, Host: m.ClientHost,
			MemberEpoch: &memberEpoch, Assignment: assignedTopics(m.Assignment), TargetAssignment: assignedTopics(m.TargetAssignment),
		})
		d.assign(m.MemberID, m.Assignment)
	}
	return d
}

// assign notes that member holds the partitions of set.
func (d *groupDescription) assign(member string, set kadm.TopicsSet) {
	set.Each(func(topic string, partition int32) {
		d.assigned[topicPartition{topic, partition}] = member
	})
}

// assignedTopics writes an assignment in topic and partition order.
func assignedTopics(set kadm.TopicsSet) []assignedTopic {
	out := []assignedTopic{}
	for _, t := range set.Sorted() {
		out = append(out, assignedTopic{t.Topic, t.Partitions})
	}
	return out
}

// addOffsets fetches the committed offsets of the groups named and the
// log offsets of the partitions they have or are assigned, and fills in
// each group's rows and lag. A group whose offsets cannot be fetched gets
// its fetchErr.
func addOffsets(ctx context.Context, adm *kadm.Client, described map[string]*groupDescription, names []string) error {
	if len(names) == 0 {
		return nil
	}
	fetched := adm.FetchManyOffsets(ctx, names...)
	committed := make(map[string]map[topicPartition]int64)
	topics := make(map[string]bool)
	for _, name := range names {
		d := described[name]
		offsets, err := committedOffsets(fetched, name)
		if err != nil {
			d.fetchErr = err
			continue
		}
		committed[name] = offsets
		for tp := range offsets {
			topics[tp.topic] = true
		}
		for tp := range d.assigned {
			topics[tp.topic] = true
		}
	}
	ranges, err := listRanges(ctx, adm, slices.Sorted(maps.Keys(topics)))
	if err != nil {
		return err
	}
	for name, offsets := range committed {
		d := described[name]
		d.Offsets = offsetRows(d.assigned, offsets, ranges)
		d.Lag = totalLag(d.Offsets)
	}
	return nil
}

// committedOffsets returns the offsets group has committed, from an
// OffsetFetch answer. Partitions answered without an offset (-1) have
// none.
func committedOffsets(fetched kadm.FetchOffsetsResponses, group string) (map[topicPartition]int64, error) {
	r, err := fetched.On(group, nil)
	if err == nil {
		err = r.Err
	}
	if err != nil {
		return nil, groupError("fetch offsets of", group, err, "")
	}
	offsets := make(map[topicPartition]int64)
	var errs []error
	r.Fetched.Each(func(o kadm.OffsetResponse) {
		switch {
		case o.Err != nil:
			errs = append(errs, partitionError(fmt.Sprintf("fetch offset of group %s for", group), o.Topic, o.Partition, o.Err))
		case o.At >= 0:
			offsets[topicPartition{o.Topic, o.Partition}] = o.At
		}
	})
	return offsets, errors.Join(errs...)
}

func printDescribedGroups(w io.Writer, conn *connection, groups []describedGroup) error {
	if conn.json() {
		return writeJSON(w, groups)
	}
	for i, g := range groups {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := printGroupHead(w, g); err != nil {
			return err
		}
		if len(g.Members) > 0 {
			fmt.Fprintln(w)
			if err := printGroupMembers(w, g.Members); err != nil {
				return err
			}
		}
		if len(g.Offsets) > 0 {
			fmt.Fprintln(w)
			if err := printGroupOffsets(w, g.Offsets); err != nil {
				return err
			}
		}
	}
	return nil
}

func printGroupHead(w io.Writer, g describedGroup) error {
	head := newTable(w)
	head.row("Group:", g.Group)
	head.row("Type:", g.Type)
	head.row("State:", g.State)
	head.row("Protocol type:", orDash(g.ProtocolType))
	head.row("Protocol:", orDash(g.Protocol))
	if g.Epoch != nil {
		head.row("Group epoch:", *g.Epoch)
	}
	if g.AssignmentEpoch != nil {
		head.row("Assignment epoch:", *g.AssignmentEpoch)
	}
	head.row("Coordinator:", g.Coordinator)
	head.row("Members:", len(g.Members))
	head.row("Lag:", g.Lag)
	return head.flush()
}

// printGroupMembers writes one row per member. The TARGET-ASSIGNMENT
// column appears when a consumer group member is being moved.
func printGroupMembers(w io.Writer, members []groupMember) error {
	moving := false
	for _, m := range members {
		moving = moving || m.TargetAssignment != nil && formatAssignment(m.TargetAssignment) != formatAssignment(m.Assignment)
	}
	headers := []string{"MEMBER-ID", "INSTANCE-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"}
	if moving {
		headers = append(headers, "TARGET-ASSIGNMENT")
	}
	tab := newTable(w, headers...)
	for _, m := range members {
		instance := "-"
		if m.InstanceID != nil {
			instance = *m.InstanceID
		}
		row := []any{m.MemberID, instance, orDash(m.ClientID), orDash(m.Host), formatAssignment(m.Assignment)}
		if moving {
			row = append(row, formatAssignment(m.TargetAssignment))
		}
		tab.row(row...)
	}
	return tab.flush()
}

// formatAssignment writes an assignment as Kafka's tools do:
// "orders:0,1;payments:2", or "-" when empty.
func formatAssignment(topics []assignedTopic) string {
	if len(topics) == 0 {
		return "-"
	}
	parts := make([]string, len(topics))
	for i, t := range topics {
		parts[i] = t.Topic + ":" + joinInts(t.Partitions)
	}
	return strings.Join(parts, ";")
}

func printGroupOffsets(w io.Writer, rows []offsetRow) error {
	tab := newTable(w, "TOPIC", "PARTITION", "COMMITTED-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER-ID")
	for _, r := range rows {
		member := "-"
		if r.MemberID != nil {
			member = *r.MemberID
		}
		tab.row(r.Topic, r.Partition, orDashInt(r.CommittedOffset), orDashInt(r.LogEndOffset), orDashInt(r.Lag), member)
	}
	return tab.flush()
}

// orDashInt is *n, or "-" when nil, for table cells.
func orDashInt(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}

// dedupe returns names without repeats, in their first order.
func dedupe(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
