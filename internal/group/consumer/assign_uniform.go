package consumer

import (
	"cmp"
	"slices"
)

// uniform is the "uniform" assignor: it spreads partitions so that
// members hold as equal a number as their subscriptions allow, and keeps
// members on the partitions they were assigned before whenever that
// balance allows (balance first, then stickiness, as Kafka's
// UniformAssignor).
//
// The balance it reaches: for every topic, no member holding one of its
// partitions has two or more partitions more than any member subscribed
// to it. When all members subscribe to the same topics this means every
// member holds P/N or P/N+1 of the P partitions.
//
// It works in three passes:
//
//  1. Keep: each member keeps the partitions of its previous target that
//     still exist and that it still subscribes to.
//  2. Hand out: the partitions nobody kept go one by one, topics with the
//     fewest subscribers first (then by name), partitions in order, each
//     to the subscribed member holding the fewest partitions (ties to the
//     lower member id). Fresh partitions of a topic thus spread over its
//     subscribers.
//  3. Even out: while some topic has a holder with two or more partitions
//     more than one of its subscribers, its highest partition moves from
//     the most loaded such holder to the least loaded subscriber. Every
//     move lowers the sum of the squared counts, so this ends, and it
//     moves no partition that balance does not require to move.
type uniform struct{}

// assign implements partitionAssignor.
func (uniform) assign(members []assignMember) map[string]assignment {
	out := make(map[string]assignment, len(members))
	counts := make([]int, len(members))
	subscribers := make(map[topicID][]int)
	subscribed := make([]map[topicID]bool, len(members))
	topics := make(map[topicID]Topic)
	for i, m := range members {
		out[m.id] = make(assignment)
		subscribed[i] = make(map[topicID]bool, len(m.topics))
		for _, t := range m.topics {
			subscribers[t.ID] = append(subscribers[t.ID], i)
			subscribed[i][t.ID] = true
			topics[t.ID] = t
		}
	}

	// 1. Keep.
	taken := make(map[topicPartition]bool)
	for i, m := range members {
		for _, tp := range m.current.list() {
			t, ok := topics[tp.topic]
			if !ok || !subscribed[i][tp.topic] || tp.partition < 0 || tp.partition >= t.Partitions || taken[tp] {
				continue
			}
			taken[tp] = true
			out[m.id].add(tp.topic, tp.partition)
			counts[i]++
		}
	}

	// 2. Hand out.
	order := make([]Topic, 0, len(topics))
	for _, t := range topics {
		order = append(order, t)
	}
	slices.SortFunc(order, func(a, b Topic) int {
		if c := cmp.Compare(len(subscribers[a.ID]), len(subscribers[b.ID])); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	leastLoaded := func(candidates []int) int {
		best := candidates[0]
		for _, i := range candidates[1:] {
			if counts[i] < counts[best] {
				best = i
			}
		}
		return best
	}
	for _, t := range order {
		for p := int32(0); p < t.Partitions; p++ {
			if taken[topicPartition{t.ID, p}] {
				continue
			}
			i := leastLoaded(subscribers[t.ID])
			out[members[i].id].add(t.ID, p)
			counts[i]++
		}
	}

	// 3. Even out.
	for moved := true; moved; {
		moved = false
		for _, t := range order {
			subs := subscribers[t.ID]
			for {
				holder := -1
				for _, i := range subs {
					if len(out[members[i].id][t.ID]) > 0 && (holder < 0 || counts[i] > counts[holder]) {
						holder = i
					}
				}
				if holder < 0 {
					break
				}
				receiver := leastLoaded(subs)
				if counts[holder]-counts[receiver] < 2 {
					break
				}
				held := out[members[holder].id].partitions(t.ID)
				p := held[len(held)-1]
				out[members[holder].id].remove(t.ID, p)
				out[members[receiver].id].add(t.ID, p)
				counts[holder]--
				counts[receiver]++
				moved = true
			}
		}
	}
	return out
}
