package group

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// tables is the topics the coordinator sees in tests.
type tables map[string]Topic

func (t tables) ByName(name string) (Topic, bool) { v, ok := t[name]; return v, ok }

func (t tables) ByID(id [16]byte) (Topic, bool) {
	for _, v := range t {
		if v.ID == id {
			return v, true
		}
	}
	return Topic{}, false
}

func (t tables) All() []Topic {
	out := make([]Topic, 0, len(t))
	for _, v := range t {
		out = append(out, v)
	}
	return out
}

// harness drives a coordinator with a clock of its own.
type harness struct {
	t      *testing.T
	c      *Coordinator
	now    time.Time
	topics tables
	ids    int
}

const (
	testSession   = 10 * time.Second
	testRebalance = 30 * time.Second
	testDelay     = time.Second
)

func newHarness(t *testing.T, mutate ...func(*Config)) *harness {
	h := &harness{t: t, now: time.Unix(1_700_000_000, 0), topics: tables{
		"orders":   {ID: [16]byte{1}, Name: "orders", Partitions: 4},
		"payments": {ID: [16]byte{2}, Name: "payments", Partitions: 2},
	}}
	cfg := DefaultConfig()
	cfg.InitialRebalanceDelay = testDelay
	cfg.NewID = func() string { h.ids++; return fmt.Sprintf("id%d", h.ids) }
	cfg.Consumer.NewMemberID = cfg.NewID
	for _, m := range mutate {
		m(&cfg)
	}
	h.c = New(cfg, h.topics)
	return h
}

// advance moves the clock and runs the coordinator's timer.
func (h *harness) advance(d time.Duration) []Record {
	h.now = h.now.Add(d)
	return h.c.Tick(h.now)
}

// reply holds a deferred response once it came.
type reply[T any] struct {
	resp T
	n    int
}

func (r *reply[T]) set(v T) { r.resp = v; r.n++ }

func (r *reply[T]) done() bool { return r.n > 0 }

// joinReq is a consumer JoinGroup of the given version.
func joinReq(version int16, group, member, instance string, protocols ...string) *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version, req.Group, req.MemberID = version, group, member
	req.SessionTimeoutMillis = int32(testSession / time.Millisecond)
	req.RebalanceTimeoutMillis = int32(testRebalance / time.Millisecond)
	req.ProtocolType = "consumer"
	if instance != "" {
		req.InstanceID = kmsg.StringPtr(instance)
	}
	if len(protocols) == 0 {
		protocols = []string{"range"}
	}
	for _, p := range protocols {
		meta := kmsg.NewConsumerMemberMetadata()
		meta.Topics = []string{"orders"}
		req.Protocols = append(req.Protocols, kmsg.JoinGroupRequestProtocol{Name: p, Metadata: meta.AppendTo(nil)})
	}
	return req
}

func (h *harness) join(req *kmsg.JoinGroupRequest) *reply[*kmsg.JoinGroupResponse] {
	r := &reply[*kmsg.JoinGroupResponse]{}
	h.c.JoinGroup(h.now, Client{ID: "client", Host: "/127.0.0.1"}, req, r.set)
	return r
}

// member joins a group as a new dynamic member (v9: MEMBER_ID_REQUIRED,
// then the join proper) and returns the pending join.
func (h *harness) member(group string) *reply[*kmsg.JoinGroupResponse] {
	h.t.Helper()
	first := h.join(joinReq(9, group, "", ""))
	if !first.done() || first.resp.ErrorCode != kerr.MemberIDRequired.Code {
		h.t.Fatalf("first join: %+v", first.resp)
	}
	return h.join(joinReq(9, group, first.resp.MemberID, ""))
}

func (h *harness) sync(group, member string, generation int32, assignments map[string]string) *reply[*kmsg.SyncGroupResponse] {
	r := &reply[*kmsg.SyncGroupResponse]{}
	h.c.SyncGroup(h.now, syncReq(group, member, generation, assignments), r.set)
	return r
}

// syncReq is a v5 consumer SyncGroup.
func syncReq(group, member string, generation int32, assignments map[string]string) *kmsg.SyncGroupRequest {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version, req.Group, req.MemberID, req.Generation = 5, group, member, generation
	req.ProtocolType, req.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range")
	for id, a := range assignments {
		req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: id, MemberAssignment: []byte(a)})
	}
	return req
}

func (h *harness) heartbeat(group, member string, generation int32) int16 {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version, req.Group, req.MemberID, req.Generation = 4, group, member, generation
	return h.c.Heartbeat(h.now, req).ErrorCode
}

// commit commits offsets of orders partitions (partition: offset) and
// makes them durable; it returns the error code of each partition.
func (h *harness) commit(version int16, group, member string, generation int32, offsets map[int32]int64) map[int32]int16 {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.MemberID, req.Generation = version, group, member, generation
	t := kmsg.NewOffsetCommitRequestTopic()
	t.Topic = "orders"
	for p, o := range offsets {
		t.Partitions = append(t.Partitions, kmsg.OffsetCommitRequestTopicPartition{Partition: p, Offset: o, LeaderEpoch: -1, Metadata: kmsg.StringPtr("m")})
	}
	req.Topics = append(req.Topics, t)
	commit := h.c.PrepareOffsetCommit(h.now, req)
	h.c.FinishOffsetCommit(commit, 0)
	codes := map[int32]int16{}
	for _, p := range commit.Response.Topics[0].Partitions {
		codes[p.Partition] = p.ErrorCode
	}
	return codes
}

// fetched returns the committed offsets of orders partitions 0-3 (-1
// where none).
func (h *harness) fetched(group string) []int64 {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 8
	g := kmsg.NewOffsetFetchRequestGroup()
	g.Group = group
	g.Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: "orders", Partitions: []int32{0, 1, 2, 3}}}
	req.Groups = append(req.Groups, g)
	resp := h.c.FetchOffsets(req)
	var out []int64
	for _, p := range resp.Groups[0].Topics[0].Partitions {
		out = append(out, p.Offset)
	}
	return out
}
