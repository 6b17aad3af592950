package consumer

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fakeTopics is an in-memory Topics whose topic ids count up from 1, so
// tests are reproducible.
type fakeTopics struct {
	byName map[string]Topic
	nextID byte
}

func newTopics(partitions map[string]int32) *fakeTopics {
	f := &fakeTopics{byName: map[string]Topic{}}
	for _, name := range slices.Sorted(maps.Keys(partitions)) {
		f.create(name, partitions[name])
	}
	return f
}

func (f *fakeTopics) create(name string, partitions int32) Topic {
	f.nextID++
	t := Topic{ID: [16]byte{15: f.nextID}, Name: name, Partitions: partitions}
	f.byName[name] = t
	return t
}

func (f *fakeTopics) delete(name string) { delete(f.byName, name) }

func (f *fakeTopics) grow(name string, partitions int32) {
	t := f.byName[name]
	t.Partitions = partitions
	f.byName[name] = t
}

func (f *fakeTopics) id(name string) [16]byte {
	t, ok := f.byName[name]
	if !ok {
		panic("no topic " + name)
	}
	return t.ID
}

func (f *fakeTopics) ByName(name string) (Topic, bool) {
	t, ok := f.byName[name]
	return t, ok
}

func (f *fakeTopics) ByID(id [16]byte) (Topic, bool) {
	for _, t := range f.byName {
		if t.ID == id {
			return t, true
		}
	}
	return Topic{}, false
}

func (f *fakeTopics) All() []Topic {
	var out []Topic
	for _, name := range slices.Sorted(maps.Keys(f.byName)) {
		out = append(out, f.byName[name])
	}
	return out
}

// start is the time every test begins at.
var start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// harness holds a group under test, its topics and a clock.
type harness struct {
	t      testing.TB
	g      *Group
	topics *fakeTopics
	now    time.Time
}

func newHarness(t testing.TB, cfg Config, partitions map[string]int32) *harness {
	n := 0
	if cfg.NewMemberID == nil {
		cfg.NewMemberID = func() string { n++; return fmt.Sprintf("server-%d", n) }
	}
	return &harness{t: t, g: New("g", cfg), topics: newTopics(partitions), now: start}
}

func (h *harness) advance(d time.Duration) { h.now = h.now.Add(d) }

func (h *harness) tick() { h.g.Tick(h.now, h.topics) }

func (h *harness) send(req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
	h.t.Helper()
	resp := h.g.Heartbeat(h.now, Client{ID: "client-" + req.MemberID, Host: "/127.0.0.1"}, req, h.topics)
	h.checkOwnership()
	return resp
}

// mustSend sends req and fails the test on an error code.
func (h *harness) mustSend(req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
	h.t.Helper()
	resp := h.send(req)
	if resp.ErrorCode != 0 {
		h.t.Fatalf("heartbeat from %s at epoch %d: %v (%s)", req.MemberID, req.MemberEpoch,
			kerr.ErrorForCode(resp.ErrorCode), deref(resp.ErrorMessage))
	}
	return resp
}

// checkOwnership checks the group's ownership index against its members.
func (h *harness) checkOwnership() {
	h.t.Helper()
	if err := checkInvariants(h.g); err != nil {
		h.t.Fatal(err)
	}
}

// checkInvariants checks what must hold of a group after every call.
func checkInvariants(g *Group) error {
	seen := map[topicPartition]string{}
	for id, m := range g.members {
		if m.id != id {
			return fmt.Errorf("member %s is filed under %s", m.id, id)
		}
		if m.assigned.overlaps(m.revoking) {
			return fmt.Errorf("member %s both owns and revokes a partition", id)
		}
		if len(m.revoking) > 0 && m.state != unrevokedPartitions {
			return fmt.Errorf("member %s revokes partitions in state %v", id, m.state)
		}
		for _, a := range []assignment{m.assigned, m.revoking} {
			for _, tp := range a.list() {
				if other, ok := seen[tp]; ok {
					return fmt.Errorf("partition %v owned by %s and %s", tp, other, id)
				}
				seen[tp] = id
				if g.owner[tp] != id {
					return fmt.Errorf("partition %v of %s is indexed under %q", tp, id, g.owner[tp])
				}
			}
		}
		if m.epoch > g.epoch {
			return fmt.Errorf("member %s at epoch %d is ahead of the group's %d", id, m.epoch, g.epoch)
		}
		if m.instanceID != "" && g.static[m.instanceID] != id {
			return fmt.Errorf("member %s's instance id %s maps to %q", id, m.instanceID, g.static[m.instanceID])
		}
	}
	if len(seen) != len(g.owner) {
		return fmt.Errorf("the ownership index has %d partitions, the members own %d", len(g.owner), len(seen))
	}
	for instance, id := range g.static {
		if g.members[id] == nil || g.members[id].instanceID != instance {
			return fmt.Errorf("instance id %s maps to %s, which does not hold it", instance, id)
		}
	}
	if g.assignmentEpoch != g.epoch {
		return fmt.Errorf("assignment epoch %d, group epoch %d", g.assignmentEpoch, g.epoch)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// joinReq is a version 1 join of memberID subscribing to names.
func joinReq(memberID string, names ...string) *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group = "g"
	req.MemberID = memberID
	req.MemberEpoch = 0
	req.RebalanceTimeoutMillis = 60_000
	req.SubscribedTopicNames = append([]string{}, names...)
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	return req
}

// beatReq is a version 1 heartbeat of memberID at epoch that reports owned
// (nil: the field left null).
func beatReq(memberID string, epoch int32, owned assignment) *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group = "g"
	req.MemberID = memberID
	req.MemberEpoch = epoch
	req.Topics = ownedTopics(owned)
	return req
}

// leaveReq is a heartbeat of memberID leaving with epoch (-1 or -2).
func leaveReq(memberID string, epoch int32, instanceID string) *kmsg.ConsumerGroupHeartbeatRequest {
	req := beatReq(memberID, epoch, nil)
	if instanceID != "" {
		req.InstanceID = &instanceID
	}
	return req
}

// ownedTopics renders an assignment as a heartbeat's owned partitions.
func ownedTopics(a assignment) []kmsg.ConsumerGroupHeartbeatRequestTopic {
	if a == nil {
		return nil
	}
	out := []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	for _, t := range a.topics() {
		out = append(out, kmsg.ConsumerGroupHeartbeatRequestTopic{TopicID: t, Partitions: a.partitions(t)})
	}
	return out
}

// fromResponse reads a response's assignment.
func fromResponse(a *kmsg.ConsumerGroupHeartbeatResponseAssignment) assignment {
	out := make(assignment)
	for _, t := range a.Topics {
		for _, p := range t.Partitions {
			out.add(t.TopicID, p)
		}
	}
	return out
}

// parts builds an assignment from topic ids and partitions:
// parts(id, 0, 1, id2, 3).
func parts(args ...any) assignment {
	out := make(assignment)
	var t topicID
	for _, a := range args {
		switch v := a.(type) {
		case [16]byte:
			t = v
		case int:
			out.add(t, int32(v))
		}
	}
	return out
}

// client is a well-behaved consumer as a test drives it: it remembers its
// epoch, owns what the last assignment gave it (giving up at once what it
// no longer has), reports what it owns in every heartbeat, and rejoins
// from scratch after it is fenced or forgotten.
type client struct {
	h        *harness
	id       string
	instance string
	names    []string
	regex    *string
	epoch    int32
	owned    assignment
	joined   bool
	lastCode int16
}

func (h *harness) newClient(id string, names ...string) *client {
	return &client{h: h, id: id, names: names, owned: make(assignment)}
}

// beat sends one heartbeat, joining first if needed, and applies the
// response.
func (c *client) beat() *kmsg.ConsumerGroupHeartbeatResponse {
	c.h.t.Helper()
	return c.beatWith(nil)
}

// beatWith is beat with the request changed by change before it is sent.
func (c *client) beatWith(change func(*kmsg.ConsumerGroupHeartbeatRequest)) *kmsg.ConsumerGroupHeartbeatResponse {
	c.h.t.Helper()
	var req *kmsg.ConsumerGroupHeartbeatRequest
	if !c.joined {
		req = joinReq(c.id, c.names...)
		if c.names == nil {
			req.SubscribedTopicNames = nil
		}
		req.SubscribedTopicRegex = c.regex
		c.owned = make(assignment)
	} else {
		req = beatReq(c.id, c.epoch, c.owned)
	}
	if c.instance != "" {
		req.InstanceID = &c.instance
	}
	if change != nil {
		change(req)
	}
	resp := c.h.send(req)
	c.lastCode = resp.ErrorCode
	switch resp.ErrorCode {
	case 0:
		c.joined = true
		c.epoch = resp.MemberEpoch
		if resp.Assignment != nil {
			c.owned = fromResponse(resp.Assignment)
		}
	case kerr.FencedMemberEpoch.Code, kerr.UnknownMemberID.Code:
		c.joined = false
		c.epoch = 0
		c.owned = make(assignment)
	}
	return resp
}

// leave sends a leave heartbeat and forgets everything.
func (c *client) leave() {
	c.h.t.Helper()
	c.h.mustSend(leaveReq(c.id, leaveEpoch, c.instance))
	c.joined, c.epoch, c.owned = false, 0, make(assignment)
}

// settle heartbeats every client round after round until the group is
// Stable, checking after each heartbeat that no two clients own the same
// partition; it fails if the group does not settle in rounds rounds.
func settle(t testing.TB, rounds int, clients ...*client) {
	t.Helper()
	for range rounds {
		for _, c := range clients {
			c.beat()
			checkClientsDisjoint(t, clients)
		}
		if clients[0].h.g.State() == StateStable {
			return
		}
	}
	t.Fatalf("the group is still %s after %d rounds", clients[0].h.g.State(), rounds)
}

// checkClientsDisjoint fails if two clients own the same partition.
func checkClientsDisjoint(t testing.TB, clients []*client) {
	t.Helper()
	for i, a := range clients {
		for _, b := range clients[i+1:] {
			if a.owned.overlaps(b.owned) {
				t.Fatalf("clients %s and %s both own %v", a.id, b.id, a.owned.intersect(b.owned).list())
			}
		}
	}
}

// totalOwned returns how many partitions the clients own together.
func totalOwned(clients ...*client) int {
	n := 0
	for _, c := range clients {
		n += c.owned.size()
	}
	return n
}
