package group

import (
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/group/consumer"
)

// DescribeGroups serves a DescribeGroups request. A group the coordinator
// does not know is described as Dead with no error, as Kafka does; a
// consumer group (KIP-848) gets GROUP_ID_NOT_FOUND: it is described by
// ConsumerGroupDescribe.
func (c *Coordinator) DescribeGroups(req *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range req.Groups {
		d := kmsg.NewDescribeGroupsResponseGroup()
		d.Group, d.State = id, "Dead"
		if req.IncludeAuthorizedOperations {
			d.AuthorizedOperations = groupOperations
		} else {
			d.AuthorizedOperations = -2147483648
		}
		e := c.group(id)
		switch {
		case len(id) > maxGroupIDBytes:
			d.ErrorCode = kerr.InvalidGroupID.Code
		case e == nil:
		case e.consumer != nil:
			d.ErrorCode = kerr.GroupIDNotFound.Code
			d.ErrorMessage = kmsg.StringPtr("group " + id + " is a consumer group (KIP-848): use ConsumerGroupDescribe")
		default:
			d.State, d.ProtocolType = e.state(), e.protocolType()
			if g := e.classic; g != nil {
				stable := g.state == stateStable
				if stable {
					d.Protocol = g.protocol
				}
				for _, m := range g.byJoinOrder() {
					dm := kmsg.NewDescribeGroupsResponseGroupMember()
					dm.MemberID, dm.ClientID, dm.ClientHost = m.id, m.clientID, m.host
					if m.instanceID != "" {
						dm.InstanceID = kmsg.StringPtr(m.instanceID)
					}
					if stable {
						dm.ProtocolMetadata, dm.MemberAssignment = m.metadata(g.protocol), m.assignment
					}
					d.Members = append(d.Members, dm)
				}
			}
		}
		resp.Groups = append(resp.Groups, d)
	}
	return resp
}

// groupOperations is the bit set of ACL operations on a group (READ,
// DESCRIBE, DELETE) reported when asked: without authorization, all.
const groupOperations = 1<<3 | 1<<8 | 1<<6

// ListGroups serves a ListGroups request, with its state (v4+) and type
// (v5+) filters, which match without regard to case.
func (c *Coordinator) ListGroups(req *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	matches := func(filter []string, v string) bool {
		if len(filter) == 0 {
			return true
		}
		for _, f := range filter {
			if strings.EqualFold(f, v) {
				return true
			}
		}
		return false
	}
	for _, e := range c.groups {
		if !matches(req.StatesFilter, e.state()) || !matches(req.TypesFilter, e.typ()) {
			continue
		}
		g := kmsg.NewListGroupsResponseGroup()
		g.Group, g.ProtocolType, g.GroupState, g.GroupType = e.id, e.protocolType(), e.state(), e.typ()
		resp.Groups = append(resp.Groups, g)
	}
	sort.Slice(resp.Groups, func(i, j int) bool { return resp.Groups[i].Group < resp.Groups[j].Group })
	return resp
}

// DeleteGroups serves a DeleteGroups request: a group without members is
// deleted with its offsets (NON_EMPTY_GROUP otherwise). The deletions take
// effect at once; the returned records make them durable.
func (c *Coordinator) DeleteGroups(req *kmsg.DeleteGroupsRequest) (*kmsg.DeleteGroupsResponse, []Record) {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	var records []Record
	for _, id := range req.Groups {
		d := kmsg.NewDeleteGroupsResponseGroup()
		d.Group = id
		e := c.group(id)
		switch {
		case id == "" || len(id) > maxGroupIDBytes:
			d.ErrorCode = kerr.InvalidGroupID.Code
		case e == nil:
			d.ErrorCode = kerr.GroupIDNotFound.Code
		case e.members() > 0:
			d.ErrorCode = kerr.NonEmptyGroup.Code
		case e.consumer != nil && e.consumer.Delete() != 0:
			d.ErrorCode = kerr.NonEmptyGroup.Code
		default:
			for tp := range e.offsets {
				records = append(records, offsetTombstone(id, tp))
			}
			delete(c.groups, id)
			delete(c.active, id)
		}
		resp.Groups = append(resp.Groups, d)
	}
	return resp, records
}

// ConsumerGroupHeartbeat serves a KIP-848 ConsumerGroupHeartbeat. A
// classic group with members refuses it (GROUP_ID_NOT_FOUND, as Kafka
// without migration); an empty one becomes a consumer group, keeping its
// offsets. A heartbeat of a member (epoch other than 0) for a group the
// coordinator does not know gets UNKNOWN_MEMBER_ID, so that members of a
// group lost in a restart join again.
func (c *Coordinator) ConsumerGroupHeartbeat(now time.Time, client Client, req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
	c.lock()
	defer c.unlock()
	fail := func(code int16, msg string) *kmsg.ConsumerGroupHeartbeatResponse {
		resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		resp.ErrorCode, resp.MemberID, resp.MemberEpoch = code, kmsg.StringPtr(req.MemberID), req.MemberEpoch
		if msg != "" {
			resp.ErrorMessage = kmsg.StringPtr(msg)
		}
		return resp
	}
	if req.Group == "" || len(req.Group) > maxGroupIDBytes {
		return fail(kerr.InvalidGroupID.Code, "")
	}
	e := c.group(req.Group)
	if e == nil || e.consumer == nil {
		switch {
		case e != nil && e.classic != nil && len(e.classic.members) > 0:
			return fail(kerr.GroupIDNotFound.Code, "group "+req.Group+" is a classic group with members")
		case req.MemberEpoch != 0:
			return fail(kerr.UnknownMemberID.Code, "")
		}
		e = c.getOrCreate(req.Group)
		e.classic = nil
		e.consumer = consumer.New(req.Group, c.cfg.Consumer)
	}
	resp := e.consumer.Heartbeat(now, client, req, c.topics)
	c.settle(e)
	return resp
}

// ConsumerGroupDescribe serves a KIP-848 ConsumerGroupDescribe. Groups
// that are not consumer groups get GROUP_ID_NOT_FOUND.
func (c *Coordinator) ConsumerGroupDescribe(req *kmsg.ConsumerGroupDescribeRequest) *kmsg.ConsumerGroupDescribeResponse {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	for _, id := range req.Groups {
		e := c.group(id)
		if e == nil || e.consumer == nil {
			d := kmsg.NewConsumerGroupDescribeResponseGroup()
			d.Group, d.ErrorCode = id, kerr.GroupIDNotFound.Code
			if e != nil {
				d.ErrorMessage = kmsg.StringPtr("group " + id + " is not a consumer group")
			}
			resp.Groups = append(resp.Groups, d)
			continue
		}
		resp.Groups = append(resp.Groups, e.consumer.Describe(c.topics, req.IncludeAuthorizedOperations))
	}
	return resp
}
