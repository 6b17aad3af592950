package group

// Summary is what the coordinator tells of one group at one moment, for
// metrics and tools: its kind, state, members and committed offsets.
type Summary struct {
	Group string
	// Type is "classic" (JoinGroup/SyncGroup) or "consumer" (KIP-848,
	// ConsumerGroupHeartbeat), as ListGroups reports it.
	Type string
	// State is Kafka's name for the group's state: for classic groups
	// Empty, PreparingRebalance, CompletingRebalance, Stable or Dead; for
	// consumer groups Empty, Assigning, Reconciling, Stable or Dead.
	State string
	// ProtocolType is the classic group's protocol type ("consumer" for
	// consumers, "" for a group that only has offsets); "consumer" for
	// consumer groups.
	ProtocolType string
	// Members is the number of members.
	Members int
	// Rebalances counts the rebalances the group has completed since the
	// node started: new generations of a classic group, new group epochs
	// of a consumer group.
	Rebalances uint64
	// Offsets are the group's committed offsets, sorted by topic and
	// partition.
	Offsets []CommittedOffset
}

// CommittedOffset is one committed offset of a group.
type CommittedOffset struct {
	Topic     string
	Partition int32
	Offset    int64
}
