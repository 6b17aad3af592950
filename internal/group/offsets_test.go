package group

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestCommitChecks(t *testing.T) {
	h := newHarness(t)
	ids, gen := stableGroup(t, h, "g", 2)
	tests := []struct {
		name       string
		version    int16
		group      string
		member     string
		generation int32
		want       int16
	}{
		{"member of the generation", 9, "g", ids[1], gen, 0},
		{"stale generation", 9, "g", ids[1], gen - 1, kerr.IllegalGeneration.Code},
		{"unknown member", 9, "g", "nobody", gen, kerr.UnknownMemberID.Code},
		{"no generation while the group has members", 9, "g", "", -1, kerr.UnknownMemberID.Code},
		{"simple commit to a new group", 9, "simple", "", -1, 0},
		{"v0 has no generation", 0, "simple0", "", 0, 0},
		{"a generation for a group that does not exist", 9, "gone", "m", 3, kerr.IllegalGeneration.Code},
		{"empty group id is allowed, as in Kafka", 9, "", "", -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes := h.commit(tt.version, tt.group, tt.member, tt.generation, map[int32]int64{2: 42})
			if codes[2] != tt.want {
				t.Fatalf("got %v, want %v", kerr.ErrorForCode(codes[2]), kerr.ErrorForCode(tt.want))
			}
			got := h.fetched(tt.group)[2]
			if want := map[bool]int64{true: 42, false: -1}[tt.want == 0]; got != want && !(tt.want != 0 && tt.group == "g") {
				t.Errorf("fetched %d after the commit, want %d", got, want)
			}
		})
	}
}

func TestCommitPartitionChecks(t *testing.T) {
	h := newHarness(t)
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.Generation = 8, "g", -1
	long := strings.Repeat("m", DefaultOffsetMetadataMaxBytes+1)
	req.Topics = []kmsg.OffsetCommitRequestTopic{
		{Topic: "orders", Partitions: []kmsg.OffsetCommitRequestTopicPartition{
			{Partition: 0, Offset: 1}, {Partition: 4, Offset: 1}, {Partition: 1, Offset: 1, Metadata: &long},
		}},
		{Topic: "nope", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 1}}},
	}
	commit := h.c.PrepareOffsetCommit(h.now, req)
	if len(commit.Records) != 1 {
		t.Fatalf("%d records, want 1", len(commit.Records))
	}
	if got := h.fetched("g"); got[0] != -1 {
		t.Errorf("the offset is visible before it is durable: %v", got)
	}
	h.c.FinishOffsetCommit(commit, 0)
	var got []int16
	for _, rt := range commit.Response.Topics {
		for _, rp := range rt.Partitions {
			got = append(got, rp.ErrorCode)
		}
	}
	want := []int16{0, kerr.UnknownTopicOrPartition.Code, kerr.OffsetMetadataTooLarge.Code, kerr.UnknownTopicOrPartition.Code}
	if !slices.Equal(got, want) {
		t.Errorf("codes %v, want %v", got, want)
	}
	if got := h.fetched("g"); !slices.Equal(got, []int64{1, -1, -1, -1}) {
		t.Errorf("fetched %v", got)
	}

	// A failed write reports its code and leaves the offsets as they were.
	req.Topics = req.Topics[:1]
	req.Topics[0].Partitions = []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 9}}
	commit = h.c.PrepareOffsetCommit(h.now, req)
	h.c.FinishOffsetCommit(commit, kerr.KafkaStorageError.Code)
	if code := commit.Response.Topics[0].Partitions[0].ErrorCode; code != kerr.KafkaStorageError.Code {
		t.Errorf("failed write: %v", kerr.ErrorForCode(code))
	}
	if got := h.fetched("g"); got[0] != 1 {
		t.Errorf("after a failed write: %v", got)
	}
}

func TestCommitByTopicID(t *testing.T) {
	h := newHarness(t)
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.Generation = 10, "g", -1
	req.Topics = []kmsg.OffsetCommitRequestTopic{
		{TopicID: [16]byte{1}, Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 3, Offset: 8}}},
		{TopicID: [16]byte{9}, Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 8}}},
	}
	commit := h.c.PrepareOffsetCommit(h.now, req)
	h.c.FinishOffsetCommit(commit, 0)
	if a, b := commit.Response.Topics[0].Partitions[0].ErrorCode, commit.Response.Topics[1].Partitions[0].ErrorCode; a != 0 || b != kerr.UnknownTopicID.Code {
		t.Errorf("codes %v %v", kerr.ErrorForCode(a), kerr.ErrorForCode(b))
	}
	fetch := kmsg.NewPtrOffsetFetchRequest()
	fetch.Version = 10
	fetch.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "g"}} // every offset
	resp := h.c.FetchOffsets(fetch)
	if ts := resp.Groups[0].Topics; len(ts) != 1 || ts[0].TopicID != [16]byte{1} || ts[0].Partitions[0].Offset != 8 {
		t.Errorf("fetch by id: %+v", resp.Groups[0])
	}
}

func TestFetchOldVersions(t *testing.T) {
	h := newHarness(t)
	h.commit(2, "g", "", -1, map[int32]int64{0: 3, 1: 4})
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.Group = 5, "g"
	resp := h.c.FetchOffsets(req) // null topics: all of them
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 2 || resp.Topics[0].Partitions[1].Offset != 4 || *resp.Topics[0].Partitions[1].Metadata != "m" {
		t.Errorf("v5 all offsets: %+v", resp)
	}
	req.Version, req.Topics = 1, []kmsg.OffsetFetchRequestTopic{{Topic: "orders", Partitions: []int32{0, 3}}}
	resp = h.c.FetchOffsets(req)
	if p := resp.Topics[0].Partitions; p[0].Offset != 3 || p[1].Offset != -1 {
		t.Errorf("v1: %+v", p)
	}
}

func TestDeleteGroups(t *testing.T) {
	h := newHarness(t)
	stableGroup(t, h, "busy", 1)
	h.commit(9, "idle", "", -1, map[int32]int64{0: 1, 1: 2})
	req := kmsg.NewPtrDeleteGroupsRequest()
	req.Version, req.Groups = 2, []string{"busy", "idle", "unknown", ""}
	resp, records := h.c.DeleteGroups(req)
	want := []int16{kerr.NonEmptyGroup.Code, 0, kerr.GroupIDNotFound.Code, kerr.InvalidGroupID.Code}
	for i, g := range resp.Groups {
		if g.ErrorCode != want[i] {
			t.Errorf("%q: %v, want %v", g.Group, kerr.ErrorForCode(g.ErrorCode), kerr.ErrorForCode(want[i]))
		}
	}
	if len(records) != 2 || records[0].Value != nil {
		t.Errorf("records %+v, want two tombstones", records)
	}
	if got := h.fetched("idle"); got[0] != -1 {
		t.Errorf("offsets after delete: %v", got)
	}
}

func TestDeleteOffsets(t *testing.T) {
	h := newHarness(t)
	ids, gen := stableGroup(t, h, "g", 1) // subscribed to orders
	h.commit(9, "g", ids[0], gen, map[int32]int64{0: 1})
	h.commit(9, "idle", "", -1, map[int32]int64{0: 1, 1: 1})
	del := func(group string, partitions ...int32) (*kmsg.OffsetDeleteResponse, []Record) {
		req := kmsg.NewPtrOffsetDeleteRequest()
		req.Group = group
		t := kmsg.NewOffsetDeleteRequestTopic()
		t.Topic = "orders"
		for _, p := range partitions {
			t.Partitions = append(t.Partitions, kmsg.OffsetDeleteRequestTopicPartition{Partition: p})
		}
		req.Topics = append(req.Topics, t)
		return h.c.DeleteOffsets(req)
	}
	if resp, records := del("g", 0); resp.Topics[0].Partitions[0].ErrorCode != kerr.GroupSubscribedToTopic.Code || len(records) != 0 {
		t.Errorf("subscribed: %+v", resp)
	}
	if resp, _ := del("nobody", 0); resp.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Errorf("unknown group: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	resp, records := del("idle", 1, 9)
	if resp.Topics[0].Partitions[0].ErrorCode != 0 || resp.Topics[0].Partitions[1].ErrorCode != kerr.UnknownTopicOrPartition.Code || len(records) != 1 {
		t.Errorf("idle: %+v, %d records", resp, len(records))
	}
	if got := h.fetched("idle"); !slices.Equal(got, []int64{1, -1, -1, -1}) {
		t.Errorf("after delete: %v", got)
	}
}

// The records a coordinator hands out, replayed into a new one, give the
// same offsets: what a restart does.
func TestReplay(t *testing.T) {
	h := newHarness(t)
	var log []Record
	write := func(rs []Record) { log = append(log, rs...) }
	for _, o := range []int64{1, 2, 3} {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Version, req.Group, req.Generation = 9, "g", -1
		req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "orders", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: o, LeaderEpoch: 7, Metadata: kmsg.StringPtr("meta")}, {Partition: 1, Offset: o * 10}}}}
		commit := h.c.PrepareOffsetCommit(h.now, req)
		write(commit.Records)
		h.c.FinishOffsetCommit(commit, 0)
	}
	h.commit(9, "other", "", -1, map[int32]int64{3: 5})
	del := kmsg.NewPtrOffsetDeleteRequest()
	del.Group, del.Topics = "g", []kmsg.OffsetDeleteRequestTopic{{Topic: "orders", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 1}}}}
	_, rs := h.c.DeleteOffsets(del)
	write(rs)
	write([]Record{{Key: []byte{0, 2, 0, 1, 'x'}, Value: []byte("group metadata: skipped")}})

	again := newHarness(t)
	for _, r := range log {
		if err := again.c.Replay(r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	if got := again.fetched("g"); !slices.Equal(got, []int64{3, -1, -1, -1}) {
		t.Errorf("replayed g: %v", got)
	}
	if got := again.fetched("other"); got[3] != -1 {
		t.Errorf("other was never written to the log, yet replayed: %v", got)
	}
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.Group = 7, "g"
	p := again.c.FetchOffsets(req).Topics[0].Partitions[0]
	if p.LeaderEpoch != 7 || *p.Metadata != "meta" {
		t.Errorf("replayed partition %+v", p)
	}
	if err := again.c.Replay([]byte{0, 1, 0}, []byte{1}); err == nil {
		t.Error("a truncated key replayed without error")
	}
}

func TestOffsetRetention(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.OffsetsRetention = time.Hour
		c.OffsetsRetentionCheckInterval = time.Minute
	})
	h.commit(9, "simple", "", -1, map[int32]int64{0: 1})
	ids, gen := stableGroup(t, h, "g", 1)
	h.commit(9, "g", ids[0], gen, map[int32]int64{0: 1})
	h.advance(30 * time.Minute)
	h.commit(9, "simple", "", -1, map[int32]int64{1: 1})
	for range 40 { // the member stays 40 minutes, then leaves
		h.heartbeat("g", ids[0], gen)
		h.advance(time.Minute)
	}
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Version, leave.Group, leave.MemberID = 2, "g", ids[0]
	h.c.LeaveGroup(h.now, leave)
	if got := h.fetched("simple"); !slices.Equal(got, []int64{-1, 1, -1, -1}) {
		t.Errorf("simple after 70 min: %v (partition 0 was committed 70 min ago)", got)
	}
	if got := h.fetched("g"); got[0] != 1 {
		t.Errorf("g's offsets expired while it had a member: %v", got)
	}
	var tombstones []Record
	for range 61 {
		tombstones = append(tombstones, h.advance(time.Minute)...)
	}
	if got := h.fetched("g"); got[0] != -1 {
		t.Errorf("g's offsets an hour after it emptied: %v", got)
	}
	if len(tombstones) < 2 {
		t.Errorf("%d tombstones", len(tombstones))
	}
	for _, s := range h.c.Summaries() {
		t.Errorf("group left behind: %+v", s)
	}
}

func TestTopicDeleted(t *testing.T) {
	h := newHarness(t)
	h.commit(9, "a", "", -1, map[int32]int64{0: 1})
	h.commit(9, "b", "", -1, map[int32]int64{0: 1, 1: 1})
	if records := h.c.TopicDeleted("orders"); len(records) != 3 {
		t.Errorf("%d tombstones, want 3", len(records))
	}
	if len(h.c.Summaries()) != 0 {
		t.Errorf("groups left: %+v", h.c.Summaries())
	}
}
