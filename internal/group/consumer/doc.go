// Package consumer is the server side of KIP-848 consumer groups (the
// "next generation" protocol of ConsumerGroupHeartbeat), as Apache Kafka
// 4's group coordinator runs them: the server assigns the partitions and
// moves each member to its share one heartbeat at a time, without
// stopping the group.
//
// A Group is a deterministic state machine. It does no I/O, starts no
// goroutine and reads no clock: every call carries the time, topics are
// read through the Topics view the caller passes, and the only randomness
// (member ids for version 0 heartbeats) comes from Config.NewMemberID.
// The caller (package group) serializes the calls and drives the time:
//
//  1. Heartbeat(now, client, request, topics) for each
//     ConsumerGroupHeartbeat; send the response it returns.
//  2. Tick(now, topics) at NextDeadline(), and whenever the node's topics
//     change (created, deleted, partitions added).
//  3. Describe, Members, State and the rest to answer questions;
//     ValidateOffsetCommit, ValidateTxnOffsetCommit and
//     ValidateOffsetFetch before committing or fetching offsets for the
//     group; Delete for DeleteGroups.
//
// Membership is not durable here: a coordinator that restarts makes new
// groups, and members rejoin when told UNKNOWN_MEMBER_ID.
//
// # Epochs
//
// The group epoch counts the changes that call for a new assignment: a
// member joins, leaves or is removed; a member changes its subscription
// (topic names or regular expression); the group's assignor changes (the
// one most members ask for); the subscribed topics change (one is
// created, deleted or gets more partitions). Each change bumps the epoch
// and computes, within the same call, the target assignment of every
// member for that epoch: the assignment epoch. Kafka may compute the
// target later (its group state "Assigning"); this package never leaves
// it for later, so a group is never seen Assigning.
//
// Each member has its own epoch: the assignment epoch it last caught up
// with. A member sends its epoch with every heartbeat. Its current epoch
// is accepted, and so is its previous one if the partitions it reports
// are all still assigned to it (the response that moved it on was lost);
// any other epoch is FENCED_MEMBER_EPOCH, and the member must give up its
// partitions and rejoin.
//
// # Reconciliation
//
// A member does not jump to its target. When it heartbeats behind the
// assignment epoch, it keeps what it owns of its target and must first
// revoke the rest: its assignment shrinks to current ∩ target, its epoch
// stays, and the rebalance timeout (which it gave when joining) starts.
// Once a heartbeat reports none of the revoked partitions owned, it moves
// to the assignment epoch and receives the partitions of its target that
// no other member owns; those still owned by others (being revoked by
// them) it receives on a later heartbeat, after they are released. So a
// partition is never owned by two members at once:
//
//	Invariant: every partition is in the assigned or revoking set of at
//	most one member (Group.owner indexes who).
//
// A member that does not revoke within its rebalance timeout, and a member
// that does not heartbeat within the session timeout, is removed, its
// partitions released, and the epoch bumped. The group is Reconciling
// while some member is behind the assignment epoch or waits to revoke or
// to receive partitions, Stable when every member owns its target, Empty
// without members.
//
// A response carries the member's assignment when the member joins, when
// it sends a full heartbeat (rebalance timeout, subscription and owned
// partitions all given, as clients do after an error), when its
// assignment changed since it was last sent, and when it heartbeats at
// its previous epoch; otherwise the assignment is null ("unchanged"), as
// are the fields a member leaves null in its heartbeats.
//
// # Static members
//
// A member with an instance id is static. Only one member holds an
// instance id: another joining with it gets UNRELEASED_INSTANCE_ID, and a
// heartbeat naming an instance id now held by another member gets
// FENCED_INSTANCE_ID. A static member that leaves with epoch -2 (a
// restart) stays in the group at epoch -2 and keeps its partitions and
// its target; the member that next joins with the same instance id takes
// them over, with no rebalance if its subscription is the same, and
// continues at the assignment epoch. A static member away for longer than
// its session is removed like any other.
//
// # Assignors
//
// "uniform" spreads the partitions so that members hold as equal numbers
// as their subscriptions allow and keeps members on their partitions when
// balance allows; "range" gives each member a contiguous range of every
// topic it subscribes to, in a fixed order of the members, so that
// co-partitioned topics line up. See assign_uniform.go and
// assign_range.go.
//
// # Subscriptions
//
// Members subscribe by topic names, by a regular expression (version 1),
// or both. Kafka matches expressions with RE2/J against the whole topic
// name; here Go's RE2 does, anchored at both ends. Expressions are
// resolved against Topics.All at every heartbeat and tick, so a topic
// created to match one is assigned at once (Kafka resolves them in the
// background, no more often than every ten seconds).
package consumer
