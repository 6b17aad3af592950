package consumer

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestValidateOffsetCommit(t *testing.T) {
	empty := newHarness(t, Config{}, map[string]int32{"t": 2})
	h := newHarness(t, Config{}, map[string]int32{"t": 2})
	h.mustSend(joinReq("m1", "t"))
	h.mustSend(joinReq("m2", "t"))                           // epoch 2: m2 at 2, m1 still at 1
	h.mustSend(beatReq("m1", 1, h.g.members["m1"].assigned)) // m1 revokes
	h.mustSend(beatReq("m1", 1, h.g.target["m1"]))           // m1 moves to 2, its previous epoch 1

	for _, tc := range []struct {
		name    string
		g       *Group
		member  string
		epoch   int32
		version int16
		want    *kerr.Error
	}{
		{"admin commit, empty group", empty.g, "", -1, 9, nil},
		{"admin commit, old version, empty group", empty.g, "", -1, 2, nil},
		{"admin commit, group with members", h.g, "", -1, 9, kerr.UnknownMemberID},
		{"member id on an empty group", empty.g, "m1", 1, 9, kerr.UnknownMemberID},
		{"unknown member", h.g, "nobody", 2, 9, kerr.UnknownMemberID},
		{"current epoch", h.g, "m1", 2, 9, nil},
		{"previous epoch", h.g, "m1", 1, 9, kerr.StaleMemberEpoch},
		{"epoch ahead", h.g, "m1", 3, 9, kerr.StaleMemberEpoch},
		{"negative epoch of a member", h.g, "m1", -1, 9, kerr.StaleMemberEpoch},
		{"version before 9", h.g, "m1", 2, 8, kerr.UnsupportedVersion},
		{"latest version", h.g, "m2", 2, 10, nil},
	} {
		got := tc.g.ValidateOffsetCommit(tc.member, tc.epoch, tc.version)
		want := int16(0)
		if tc.want != nil {
			want = tc.want.Code
		}
		if got != want {
			t.Errorf("%s: %v, want %v", tc.name, kerr.ErrorForCode(got), kerr.ErrorForCode(want))
		}
	}
}

func TestValidateTxnOffsetCommit(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 2})
	h.mustSend(joinReq("m1", "t"))
	for _, tc := range []struct {
		name   string
		member string
		epoch  int32
		want   *kerr.Error
	}{
		{"no group metadata", "", -1, nil},
		{"member at its epoch", "m1", 1, nil},
		{"member at another epoch", "m1", 2, kerr.StaleMemberEpoch},
		{"unknown member", "x", 1, kerr.UnknownMemberID},
	} {
		got := h.g.ValidateTxnOffsetCommit(tc.member, tc.epoch)
		want := int16(0)
		if tc.want != nil {
			want = tc.want.Code
		}
		if got != want {
			t.Errorf("%s: %v, want %v", tc.name, kerr.ErrorForCode(got), kerr.ErrorForCode(want))
		}
	}
}

func TestValidateOffsetFetch(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"t": 2})
	h.mustSend(joinReq("m1", "t"))
	for _, tc := range []struct {
		name   string
		member string
		epoch  int32
		want   *kerr.Error
	}{
		{"admin fetch", "", -1, nil},
		{"member at its epoch", "m1", 1, nil},
		{"member at another epoch", "m1", 0, kerr.StaleMemberEpoch},
		{"unknown member", "x", 1, kerr.UnknownMemberID},
		{"empty id with an epoch", "", 1, kerr.UnknownMemberID},
	} {
		got := h.g.ValidateOffsetFetch(tc.member, tc.epoch)
		want := int16(0)
		if tc.want != nil {
			want = tc.want.Code
		}
		if got != want {
			t.Errorf("%s: %v, want %v", tc.name, kerr.ErrorForCode(got), kerr.ErrorForCode(want))
		}
	}
}

func TestSubscribedTopics(t *testing.T) {
	h := newHarness(t, Config{}, map[string]int32{"a": 1, "b1": 1, "b2": 1, "c": 1})
	h.mustSend(joinReq("m1", "a", "missing"))
	req := joinReq("m2")
	req.SubscribedTopicNames = nil
	req.SubscribedTopicRegex = ptr(`b\d`)
	h.mustSend(req)
	got := h.g.SubscribedTopics(h.topics)
	for _, name := range []string{"a", "missing", "b1", "b2"} {
		if !got[name] {
			t.Errorf("%s is not reported subscribed", name)
		}
	}
	if got["c"] || len(got) != 4 {
		t.Errorf("subscribed topics %v", got)
	}
}
