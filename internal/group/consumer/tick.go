package consumer

import (
	"maps"
	"slices"
	"time"
)

// Tick does what is due at now: it removes the members whose session
// timed out (static members away at epoch -2 included) and the members
// that did not revoke partitions within their rebalance timeout, and
// resolves the subscribed topics against topics again (a topic created,
// deleted or grown). Any of these bumps the group epoch, once, and
// computes a new target assignment. A nil topics skips the resolution.
//
// Call it at NextDeadline, and whenever the node's topics change.
func (g *Group) Tick(now time.Time, topics Topics) {
	if g.dead {
		return
	}
	removed := false
	for _, id := range slices.Sorted(maps.Keys(g.members)) {
		m := g.members[id]
		sessionOver := !now.Before(m.sessionDeadline)
		rebalanceOver := m.state == unrevokedPartitions && !m.rebalanceDeadline.IsZero() && !now.Before(m.rebalanceDeadline)
		if sessionOver || rebalanceOver {
			g.removeMember(m)
			removed = true
		}
	}
	if g.refreshImage(topics) || removed {
		g.bump()
	}
}
