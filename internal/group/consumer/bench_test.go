package consumer

import (
	"fmt"
	"testing"
)

// BenchmarkSteadyHeartbeat is the common case: a stable member of a group
// of 500 heartbeating with nothing new.
func BenchmarkSteadyHeartbeat(b *testing.B) {
	h := newHarness(b, Config{}, map[string]int32{"a": 500, "b": 500})
	clients := make([]*client, 500)
	for i := range clients {
		clients[i] = h.newClient(fmt.Sprintf("m%03d", i), "a", "b")
		clients[i].beat()
	}
	for range 3 {
		for _, c := range clients {
			c.beat()
		}
	}
	if h.g.State() != StateStable {
		b.Fatalf("group is %s", h.g.State())
	}
	b.ResetTimer()
	for i := range b.N {
		h.g.Heartbeat(h.now, Client{}, beatReq(clients[i%500].id, clients[i%500].epoch, clients[i%500].owned), h.topics)
	}
}

// BenchmarkUniformAssign measures one target computation: 500 members,
// 1,000 partitions, one member new.
func BenchmarkUniformAssign(b *testing.B) {
	a, t := topic(1, "a", 500), topic(2, "b", 500)
	var ms []specMember
	for i := range 500 {
		ms = append(ms, specMember{id: fmt.Sprintf("m%03d", i), topics: []Topic{a, t}})
	}
	members := assignSpecs(ms...)
	first := uniform{}.assign(members)
	for i := range members[1:] {
		members[i+1].current = first[members[i+1].id]
	}
	b.ResetTimer()
	for range b.N {
		uniform{}.assign(members)
	}
}
