package consumer

import "github.com/twmb/franz-go/pkg/kerr"

// ValidateOffsetCommit checks who sends an OffsetCommit of version
// apiVersion to the group, as Kafka 4.0 to 4.2 do, and returns the error
// code for the whole commit (0: it may commit):
//
//   - a negative epoch on a group without members is a commit from an
//     admin client or a consumer that assigns itself partitions: allowed;
//   - otherwise the member id must be a member's (UNKNOWN_MEMBER_ID);
//   - a member of a consumer group must commit with version 9 or later
//     (UNSUPPORTED_VERSION): versions before 9 carry a classic generation;
//   - the epoch must be the member's current epoch exactly
//     (STALE_MEMBER_EPOCH). A commit at the previous epoch is refused too:
//     the member learns its new epoch from its next heartbeat and retries.
//     (Kafka 4.3, KIP-1251, accepts an older epoch for the partitions the
//     member still holds; that takes the commit's partitions, which this
//     check does not get.)
func (g *Group) ValidateOffsetCommit(memberID string, memberEpoch int32, apiVersion int16) int16 {
	if memberEpoch < 0 && len(g.members) == 0 {
		return 0
	}
	m := g.members[memberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID.Code
	case apiVersion < 9:
		return kerr.UnsupportedVersion.Code
	case memberEpoch != m.epoch:
		return kerr.StaleMemberEpoch.Code
	}
	return 0
}

// ValidateTxnOffsetCommit checks who sends a TxnOffsetCommit to the
// group, as Kafka does, and returns the error code for the whole commit
// (0: it may commit). A producer that gives no group metadata (member id
// "" and generation -1) may always commit; otherwise the rules are
// ValidateOffsetCommit's, without a version floor, generationID being the
// member epoch.
func (g *Group) ValidateTxnOffsetCommit(memberID string, generationID int32) int16 {
	if memberID == "" && generationID == -1 {
		return 0
	}
	if generationID < 0 && len(g.members) == 0 {
		return 0
	}
	m := g.members[memberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID.Code
	case generationID != m.epoch:
		return kerr.StaleMemberEpoch.Code
	}
	return 0
}

// ValidateOffsetFetch checks who sends an OffsetFetch (version 9 and
// later name the member) and returns the error code (0: it may fetch). A
// fetch without a member (id "" and a negative epoch) comes from an admin
// client or an older consumer and is allowed; otherwise the member must
// exist (UNKNOWN_MEMBER_ID) and be at that epoch (STALE_MEMBER_EPOCH).
func (g *Group) ValidateOffsetFetch(memberID string, memberEpoch int32) int16 {
	if memberID == "" && memberEpoch < 0 {
		return 0
	}
	m := g.members[memberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID.Code
	case memberEpoch != m.epoch:
		return kerr.StaleMemberEpoch.Code
	}
	return 0
}
