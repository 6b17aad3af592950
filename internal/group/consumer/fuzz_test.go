package consumer

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// fuzzClient is an honest consumer: it owns what its last assignment gave
// it, reports it in every heartbeat, and starts over after any error.
type fuzzClient struct {
	base     string // member id prefix; a static client restarts under new ids
	id       string
	instance string
	names    []string
	regex    *string
	joined   bool
	epoch    int32
	owned    assignment
	restarts int
	// full is set after a lost response: like Kafka's clients after a
	// failed heartbeat, the next one carries every field, so that the
	// group sends the assignment again.
	full bool
}

// request builds the client's next heartbeat.
func (c *fuzzClient) request() *kmsg.ConsumerGroupHeartbeatRequest {
	var req *kmsg.ConsumerGroupHeartbeatRequest
	if !c.joined {
		req = joinReq(c.id, c.names...)
		req.SubscribedTopicRegex = c.regex
	} else {
		req = beatReq(c.id, c.epoch, c.owned)
		if c.full {
			req.RebalanceTimeoutMillis = 60_000
			req.SubscribedTopicNames = c.names
			req.SubscribedTopicRegex = c.regex
			if c.names == nil && c.regex == nil {
				req.SubscribedTopicNames = []string{}
			}
		}
	}
	if c.instance != "" {
		req.InstanceID = &c.instance
	}
	return req
}

// apply takes a response in. It fails the test if an epoch goes back.
func (c *fuzzClient) apply(t *testing.T, resp *kmsg.ConsumerGroupHeartbeatResponse) {
	if resp.ErrorCode != 0 {
		c.reset()
		return
	}
	if c.joined && resp.MemberEpoch < c.epoch {
		t.Fatalf("client %s went from epoch %d back to %d", c.id, c.epoch, resp.MemberEpoch)
	}
	c.joined = true
	c.full = false
	c.epoch = resp.MemberEpoch
	if resp.Assignment != nil {
		c.owned = fromResponse(resp.Assignment)
	}
}

// reset forgets the membership and every partition.
func (c *fuzzClient) reset() {
	c.joined, c.epoch, c.owned, c.full = false, 0, make(assignment), false
}

// FuzzHeartbeats drives a group with random sequences of heartbeats from
// honest clients (some losing responses), a hostile member sending random
// epochs and owned partitions, leaves, static restarts, topic changes and
// time passing, and checks after every step that the group's invariants
// hold, that no two members the group counts own a partition, and that
// epochs only go forward. At the end the hostile member leaves, time runs
// on and the honest clients must settle: Stable, every subscribed
// partition owned.
func FuzzHeartbeats(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 2, 0, 3, 1, 0, 1, 1, 1, 2, 1, 3})
	f.Add([]byte{0, 0, 0, 1, 4, 0, 0, 1, 9, 0, 0, 0, 7, 2, 8, 5, 0, 2, 0, 0})
	f.Add([]byte{0, 2, 7, 2, 0, 2, 11, 3, 11, 200, 6, 1, 8, 9, 9, 1, 9, 2, 10, 3})
	f.Add([]byte{0, 0, 0, 1, 5, 0, 5, 1, 0, 0, 0, 1, 8, 7, 8, 7, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 400 {
			ops = ops[:400]
		}
		h := newHarness(t, Config{SessionTimeout: 10 * time.Second, MaxSize: 5}, map[string]int32{"a": 3, "b": 2})
		regex := "a|c"
		clients := []*fuzzClient{
			{base: "m0", names: []string{"a", "b"}},
			{base: "m1", names: []string{"a"}},
			{base: "m2", names: []string{"b", "c"}, instance: "i2"},
			{base: "m3", regex: &regex},
		}
		for _, c := range clients {
			c.id = c.base
			c.owned = make(assignment)
		}
		lastEpoch := h.g.Epoch()

		send := func(c *fuzzClient, req *kmsg.ConsumerGroupHeartbeatRequest, lose bool) {
			resp := h.send(req)
			switch {
			case !lose || resp.ErrorCode != 0:
				c.apply(t, resp)
			case c.joined:
				c.full = true
			}
		}
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i], ops[i+1]
			c := clients[int(arg)%len(clients)]
			switch op % 12 {
			case 0, 1, 2, 3:
				send(c, c.request(), false)
			case 4: // the response is lost
				send(c, c.request(), true)
			case 5: // owned partitions left null
				req := c.request()
				if c.joined && !c.full {
					req.Topics = nil
				}
				send(c, req, false)
			case 6:
				if c.joined {
					h.send(leaveReq(c.id, leaveEpoch, c.instance))
					c.reset()
				}
			case 7: // a static client restarts
				if c.joined && c.instance != "" {
					h.send(leaveReq(c.id, staticLeaveEpoch, c.instance))
					c.reset()
					c.restarts++
					c.id = fmt.Sprintf("%s-%d", c.base, c.restarts)
				}
			case 8:
				h.advance(time.Duration(arg%8) * time.Second)
				h.tick()
			case 9:
				switch arg % 4 {
				case 0:
					if _, ok := h.topics.byName["c"]; !ok {
						h.topics.create("c", 2)
					}
				case 1:
					h.topics.delete("b")
				case 2:
					if tp, ok := h.topics.byName["a"]; ok && tp.Partitions < 8 {
						h.topics.grow("a", tp.Partitions+1)
					}
				case 3:
					if _, ok := h.topics.byName["b"]; !ok {
						h.topics.create("b", 3)
					}
				}
				if arg%2 == 0 {
					h.tick()
				}
			case 10: // a subscription change
				if c.joined && c.regex == nil {
					names := []string{"a"}
					if len(c.names) == 1 {
						names = []string{"a", "b", "c"}
					}
					c.names = names
					req := c.request()
					req.SubscribedTopicNames = names
					send(c, req, false)
				}
			case 11: // the hostile member
				req := beatReq("x", int32(arg%8)-2, nil)
				switch arg % 3 {
				case 0:
					req = joinReq("x", "a", "b", "c")
				case 1:
					req.Topics = ownedTopics(parts(h.topics.byName["a"].ID, int(arg%5), h.topics.byName["b"].ID, int(arg%3)))
				}
				if arg%5 == 0 {
					req.InstanceID = ptr("ix")
				}
				h.send(req)
			}

			if h.g.Epoch() < lastEpoch {
				t.Fatalf("group epoch went from %d back to %d", lastEpoch, h.g.Epoch())
			}
			lastEpoch = h.g.Epoch()
			// Clients the group no longer counts have lost their
			// partitions (their sessions ran out).
			var members []*fuzzClient
			for _, c := range clients {
				if c.joined && h.g.members[c.id] == nil {
					c.reset()
				}
				if c.joined {
					members = append(members, c)
				}
			}
			for i, a := range members {
				for _, b := range members[i+1:] {
					if a.owned.overlaps(b.owned) {
						t.Fatalf("step %d: clients %s and %s both own %v", i/2, a.id, b.id, a.owned.intersect(b.owned).list())
					}
				}
			}
		}

		// Settle.
		if h.g.members["x"] != nil {
			h.send(leaveReq("x", leaveEpoch, h.g.members["x"].instanceID))
		}
		for range 40 {
			h.advance(time.Second)
			h.tick()
			for _, c := range clients {
				send(c, c.request(), false)
			}
			joined := 0
			for _, c := range clients {
				if c.joined {
					joined++
				}
			}
			if h.g.State() == StateStable && h.g.Len() == len(clients) && joined == len(clients) {
				break
			}
		}
		if h.g.State() != StateStable || h.g.Len() != len(clients) {
			for _, m := range h.g.Members() {
				t.Logf("%+v", m)
			}
			for _, c := range clients {
				t.Logf("client %s joined %v epoch %d owns %v", c.id, c.joined, c.epoch, c.owned.list())
			}
			t.Fatalf("the group did not settle: %s with %d members", h.g.State(), h.g.Len())
		}
		want := 0
		for _, tp := range h.topics.All() {
			if h.g.SubscribedTopics(h.topics)[tp.Name] {
				want += int(tp.Partitions)
			}
		}
		got := 0
		for _, c := range clients {
			got += c.owned.size()
		}
		if got != want {
			for _, m := range h.g.Members() {
				t.Logf("%+v", m)
			}
			for _, c := range clients {
				t.Logf("client %s joined %v epoch %d owns %v", c.id, c.joined, c.epoch, c.owned.list())
			}
			t.Fatalf("settled clients own %d of %d subscribed partitions", got, want)
		}
	})
}
