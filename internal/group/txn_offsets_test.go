package group

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnCommit stages orders offsets (partition: offset) of producerID in
// group and returns the commit.
func (h *harness) txnCommit(version int16, group string, producerID int64, member string, generation int32, offsets map[int32]int64) *TxnCommit {
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.Version, req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = version, "tx", group, producerID, 0
	req.MemberID, req.Generation = member, generation
	t := kmsg.NewTxnOffsetCommitRequestTopic()
	t.Topic = "orders"
	for p, o := range offsets {
		t.Partitions = append(t.Partitions, kmsg.TxnOffsetCommitRequestTopicPartition{Partition: p, Offset: o, LeaderEpoch: -1})
	}
	req.Topics = append(req.Topics, t)
	tc := h.c.PrepareTxnOffsetCommit(h.now, req)
	h.c.FinishTxnOffsetCommit(tc, 0)
	return tc
}

// fetchStable is fetched with require_stable: offsets, and codes.
func (h *harness) fetchStable(group string) ([]int64, []int16) {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.RequireStable = 8, true
	g := kmsg.NewOffsetFetchRequestGroup()
	g.Group = group
	g.Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: "orders", Partitions: []int32{0, 1, 2, 3}}}
	req.Groups = append(req.Groups, g)
	var offsets []int64
	var codes []int16
	for _, p := range h.c.FetchOffsets(req).Groups[0].Topics[0].Partitions {
		offsets, codes = append(offsets, p.Offset), append(codes, p.ErrorCode)
	}
	return offsets, codes
}

func TestTxnOffsetCommit(t *testing.T) {
	h := newHarness(t)
	h.commit(9, "g", "", -1, map[int32]int64{0: 1, 1: 1})
	tc := h.txnCommit(4, "g", 7, "", -1, map[int32]int64{0: 5, 2: 5})
	if len(tc.Records) != 2 || tc.Response.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("prepare: %+v", tc.Response)
	}
	if got := h.fetched("g"); !slices.Equal(got, []int64{1, 1, -1, -1}) {
		t.Errorf("before the marker, without require_stable: %v", got)
	}
	unstable := kerr.UnstableOffsetCommit.Code
	if _, codes := h.fetchStable("g"); !slices.Equal(codes, []int16{unstable, 0, unstable, 0}) {
		t.Errorf("before the marker, with require_stable: %v", codes)
	}
	// A plain commit of partition 2 after the transaction's: it stays
	// when the transaction commits.
	h.commit(9, "g", "", -1, map[int32]int64{2: 9})
	h.c.CompleteTxn(7, true)
	if got, codes := h.fetchStable("g"); !slices.Equal(got, []int64{5, 1, 9, -1}) || !slices.Equal(codes, []int16{0, 0, 0, 0}) {
		t.Errorf("after the commit marker: %v %v", got, codes)
	}
	// An aborted transaction leaves nothing.
	h.txnCommit(4, "g", 8, "", -1, map[int32]int64{1: 50})
	h.c.CompleteTxn(8, false)
	if got := h.fetched("g"); got[1] != 1 {
		t.Errorf("after the abort: %v", got)
	}
	h.c.CompleteTxn(99, true) // a marker of a producer that staged nothing
}

func TestTxnOffsetCommitChecks(t *testing.T) {
	h := newHarness(t)
	ids, gen := stableGroup(t, h, "g", 1)
	tests := []struct {
		name       string
		version    int16
		group      string
		member     string
		generation int32
		want       int16
	}{
		{"no member named: always (older clients)", 3, "g", "", -1, 0},
		{"v2 names no member", 2, "g", "x", 5, 0},
		{"the member, its generation", 3, "g", ids[0], gen, 0},
		{"a stale generation", 3, "g", ids[0], gen - 1, kerr.IllegalGeneration.Code},
		{"an unknown member", 3, "g", "nobody", gen, kerr.UnknownMemberID.Code},
		{"a generation of a group that does not exist", 3, "none", "m", 2, kerr.IllegalGeneration.Code},
		{"an empty group id", 3, "", "", -1, kerr.InvalidGroupID.Code},
	}
	for _, tt := range tests {
		tc := h.txnCommit(tt.version, tt.group, 1, tt.member, tt.generation, map[int32]int64{0: 1})
		if got := tc.Response.Topics[0].Partitions[0].ErrorCode; got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, kerr.ErrorForCode(got), kerr.ErrorForCode(tt.want))
		}
	}
}

// Replaying the records of a transactional commit and its marker, in log
// order, gives what the coordinator held.
func TestReplayTxnOffsets(t *testing.T) {
	h := newHarness(t)
	tc := h.txnCommit(4, "g", 7, "", -1, map[int32]int64{0: 5, 3: 6})
	aborted := h.txnCommit(4, "g", 8, "", -1, map[int32]int64{1: 70})
	again := newHarness(t)
	for _, r := range tc.Records {
		if err := again.c.ReplayTxn(7, r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range aborted.Records {
		if err := again.c.ReplayTxn(8, r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	if _, codes := again.fetchStable("g"); codes[0] != kerr.UnstableOffsetCommit.Code || codes[1] != kerr.UnstableOffsetCommit.Code {
		t.Errorf("replayed, before the markers: %v", codes)
	}
	again.c.CompleteTxn(7, true)
	again.c.CompleteTxn(8, false)
	if got := again.fetched("g"); !slices.Equal(got, []int64{5, -1, -1, 6}) {
		t.Errorf("replayed: %v", got)
	}
	if err := again.c.ReplayTxn(7, []byte{0, 1, 0}, []byte{0}); err == nil {
		t.Error("a damaged record replayed without error")
	}
}
