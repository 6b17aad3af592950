// Package group is the group coordinator: the membership of consumer
// groups and their committed offsets, as a deterministic state machine.
//
// It serves both protocols Kafka clients speak. Classic groups
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) follow Kafka's group
// coordinator: a rebalance gathers the members' joins, the leader's
// assignment is handed out by SyncGroup, generations fence stale members.
// Consumer groups (KIP-848, ConsumerGroupHeartbeat) are delegated to
// package consumer, which assigns partitions on the server. A group is of
// one kind at a time: a group with members of one kind refuses the other
// (INCONSISTENT_GROUP_PROTOCOL for a JoinGroup, GROUP_ID_NOT_FOUND for a
// ConsumerGroupHeartbeat); an empty group takes the kind of its next
// member and keeps its offsets.
//
// The Coordinator does no I/O and reads no clock: every call carries the
// time, replies that must wait (a JoinGroup until the rebalance completes,
// a SyncGroup until the leader's assignment) are callbacks it calls later,
// and what must be made durable is handed back as Records for the caller
// to write (to the __consumer_offsets partition, records.go) before it
// applies them. Tick, called by the caller's timer, expires sessions,
// completes rebalances whose time is up and expires old offsets.
//
// Committed offsets are durable; memberships are not: after a restart the
// groups come back empty with their offsets, and members rejoin when the
// coordinator answers them UNKNOWN_MEMBER_ID (one rebalance).
package group
