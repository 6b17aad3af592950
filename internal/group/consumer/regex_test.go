package consumer

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func regexClient(h *harness, id, expr string) *client {
	c := h.newClient(id)
	c.regex = &expr
	return c
}

func TestRegexSubscription(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"orders": 2, "orders-eu": 1, "payments": 3, "xorders": 1})
	c := regexClient(h, "m1", `orders.*`)
	settle(t, 3, c)
	want := parts(h.topics.id("orders"), 0, 1, h.topics.id("orders-eu"), 0)
	if !c.owned.equal(want) {
		t.Fatalf("regex orders.* owns %v, want orders and orders-eu (a whole-name match)", c.owned.list())
	}
	if got := h.g.Members()[0].Assigned; len(got["orders"]) != 2 || len(got["orders-eu"]) != 1 {
		t.Fatalf("Members shows %v", got)
	}

	// A topic created to match is assigned after a tick.
	epoch := h.g.Epoch()
	h.topics.create("orders-us", 2)
	h.tick()
	if h.g.Epoch() != epoch+1 {
		t.Fatal("a new matching topic did not bump the epoch")
	}
	settle(t, 3, c)
	if c.owned.size() != 5 {
		t.Fatalf("m1 owns %d partitions, want 5", c.owned.size())
	}
	// ... and noticed by a heartbeat even without a tick.
	h.topics.create("orders-ap", 1)
	settle(t, 3, c)
	if c.owned.size() != 6 {
		t.Fatalf("m1 owns %d partitions after orders-ap appeared, want 6", c.owned.size())
	}

	// Changing the regex.
	c.beatWith(func(req *kmsg.ConsumerGroupHeartbeatRequest) { req.SubscribedTopicRegex = ptr(`pay.*`) })
	settle(t, 3, c)
	if !c.owned.equal(parts(h.topics.id("payments"), 0, 1, 2)) {
		t.Fatalf("after changing the regex m1 owns %v", c.owned.list())
	}
	if subs := h.g.SubscribedTopics(h.topics); !subs["payments"] || subs["orders"] {
		t.Fatalf("subscribed topics %v", subs)
	}

	// An empty regex clears the subscription.
	c.beatWith(func(req *kmsg.ConsumerGroupHeartbeatRequest) { req.SubscribedTopicRegex = ptr("") })
	settle(t, 3, c)
	if c.owned.size() != 0 || h.g.Members()[0].SubscribedTopicRegex != "" {
		t.Fatalf("after clearing the regex m1 owns %v", c.owned.list())
	}
}

// Names and a regular expression together subscribe to both.
func TestRegexAndNames(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"a1": 1, "a2": 1, "b": 1, "c": 1})
	c := regexClient(h, "m1", `a\d`)
	c.names = []string{"b"}
	settle(t, 3, c)
	if c.owned.size() != 3 {
		t.Fatalf("names and regex: m1 owns %v", c.owned.list())
	}
}

// Two members sharing a regex with a third subscribed by name.
func TestRegexHeterogeneousGroup(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"logs-1": 4, "logs-2": 4, "audit": 2})
	c1, c2 := regexClient(h, "m1", `logs-.*`), regexClient(h, "m2", `logs-.*`)
	c3 := h.newClient("m3", "audit", "logs-1")
	settle(t, 6, c1, c2, c3)
	if totalOwned(c1, c2, c3) != 10 {
		t.Fatalf("the members own %d of 10 partitions", totalOwned(c1, c2, c3))
	}
	if c3.owned[h.topics.id("logs-2")] != nil {
		t.Fatal("m3 got a partition of a topic it does not subscribe to")
	}
}

func TestInvalidRegex(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 1})
	req := joinReq("m1")
	req.SubscribedTopicNames = nil
	req.SubscribedTopicRegex = ptr(`orders[`)
	resp := h.send(req)
	if resp.ErrorCode != kerr.InvalidRegularExpression.Code || resp.ErrorMessage == nil {
		t.Fatalf("invalid regex: %v, want INVALID_REGULAR_EXPRESSION with a message", kerr.ErrorForCode(resp.ErrorCode))
	}
	if h.g.Len() != 0 {
		t.Fatal("a member refused for its regex was added")
	}
	// RE2 refuses what it cannot do in linear time, such as
	// back-references.
	req.SubscribedTopicRegex = ptr(`(a)\1`)
	if resp := h.send(req); resp.ErrorCode != kerr.InvalidRegularExpression.Code {
		t.Fatalf("back-reference: %v, want INVALID_REGULAR_EXPRESSION", kerr.ErrorForCode(resp.ErrorCode))
	}
}

// Version 0 has no regex field: one set on a v0 request is ignored.
func TestRegexIgnoredOnVersion0(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 1})
	req := joinReq("", "t")
	req.Version = 0
	req.SubscribedTopicRegex = ptr(`[`)
	h.mustSend(req)
	if h.g.Members()[0].SubscribedTopicRegex != "" {
		t.Fatal("a v0 request's regex was used")
	}
}
