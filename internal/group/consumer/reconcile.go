package consumer

import "time"

// reconcile moves a member that heartbeats towards its target assignment,
// as Kafka's CurrentAssignmentBuilder: a member gives up partitions
// before it moves to a new epoch, and receives a partition only once no
// other member owns it. owned is what the heartbeat says the member owns
// (nil when the heartbeat left the field out: unknown).
//
// From stable, behind the assignment epoch, and from unreleasedPartitions,
// the member advances (see advance). From unrevokedPartitions it advances
// once owned no longer holds any partition it is revoking; until then
// nothing changes.
func (g *Group) reconcile(now time.Time, m *member, owned assignment) {
	switch m.state {
	case stable:
		if m.epoch == g.assignmentEpoch {
			return
		}
	case unrevokedPartitions:
		if ownsAny(owned, m.revoking) {
			return
		}
	case unreleasedPartitions:
	}
	g.advance(now, m, owned)
}

// advance computes the member's next assignment from its target:
//
//	keep    = assigned ∩ target
//	revoke  = assigned − keep
//	receive = target − keep − partitions other members own
//
// If the member still owns a partition of revoke, it stays at its epoch,
// keeps only keep and revokes revoke (unrevokedPartitions, the rebalance
// timeout starts). Otherwise it moves to the assignment epoch owning keep
// and receive: stable, or unreleasedPartitions when part of its target is
// still owned by others.
func (g *Group) advance(now time.Time, m *member, owned assignment) {
	target := g.target[m.id]
	keep := m.assigned.intersect(target)
	revoke := m.assigned.minus(keep)
	receive := make(assignment)
	unreleased := false
	for t, ps := range target {
		for p := range ps {
			if keep.has(t, p) {
				continue
			}
			if owner, ok := g.owner[topicPartition{t, p}]; ok && owner != m.id {
				unreleased = true
				continue
			}
			receive.add(t, p)
		}
	}

	if len(revoke) > 0 && ownsAny(owned, revoke) {
		g.setOwnership(m, keep, revoke)
		m.previousEpoch = m.epoch
		m.state = unrevokedPartitions
		m.rebalanceDeadline = now.Add(max(m.rebalanceTimeout, 0))
		m.notify = true
		return
	}

	next := keep.union(receive)
	if !next.equal(m.assigned) {
		m.notify = true
	}
	g.setOwnership(m, next, nil)
	m.previousEpoch, m.epoch = m.epoch, g.assignmentEpoch
	m.state = stable
	if unreleased {
		m.state = unreleasedPartitions
	}
	m.rebalanceDeadline = time.Time{}
}

// ownsAny reports whether a member that says it owns owned still owns a
// partition of set. A member that did not say what it owns (nil) is taken
// to own everything it was given.
func ownsAny(owned, set assignment) bool {
	if owned == nil {
		return len(set) > 0
	}
	return owned.overlaps(set)
}

// ownsOnly reports whether owned, as a heartbeat reports it, holds only
// partitions of assigned. Unknown (nil) does not.
func ownsOnly(owned, assigned assignment) bool {
	if owned == nil {
		return false
	}
	for t, ps := range owned {
		for p := range ps {
			if !assigned.has(t, p) {
				return false
			}
		}
	}
	return true
}
