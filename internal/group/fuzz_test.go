package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzReplay feeds records of the offsets topic, as a damaged file could
// hold them, to Replay: it must return errors, never panic, and leave the
// coordinator serving.
func FuzzReplay(f *testing.F) {
	tp := topicPartition{"orders", 1}
	good := offsetRecord("g", tp, committed{offset: 5, leaderEpoch: 2, metadata: "m", commitTime: 1})
	f.Add(good.Key, good.Value)
	f.Add(good.Key, []byte(nil))
	f.Add(good.Key[:5], good.Value[:3])
	old := kmsg.NewOffsetCommitValue()
	old.Version, old.Offset, old.ExpireTimestamp = 1, 9, 100
	f.Add(good.Key, old.AppendTo(nil))
	f.Add([]byte{0, 2, 0, 1, 'g'}, []byte("group metadata"))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		h := newHarness(t)
		_ = h.c.Replay(key, value)
		h.fetched("g")
		h.c.Summaries()
		h.commit(9, "g", "", -1, map[int32]int64{0: 1})
		if got := h.fetched("g"); got[0] != 1 {
			t.Fatalf("a commit after replaying %x/%x: %v", key, value, got)
		}
	})
}

// FuzzClassic drives a classic group with requests a fuzzer chooses
// (members, generations, versions, instance ids, timeouts, the clock) and
// checks that nothing panics, that every deferred reply comes exactly
// once, and that a stable group's members all belong to its generation.
func FuzzClassic(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 2, 3, 4, 1, 5, 2, 6, 7, 8, 9})
	f.Add([]byte{0, 1, 0, 1, 9, 9, 9, 9, 1, 1, 3, 3, 2, 2, 5, 5, 9, 9})
	f.Fuzz(func(t *testing.T, ops []byte) {
		h := newHarness(t, func(c *Config) { c.MaxSize = 4 })
		var ids []string
		replies := 0
		expected := 0
		pick := func(b byte) string {
			if len(ids) == 0 || b%5 == 0 {
				return "stranger"
			}
			return ids[int(b)%len(ids)]
		}
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%10, ops[i+1]
			gen := int32(arg%4) - 1
			switch op {
			case 0, 1: // join: new, or known, maybe static, maybe old version
				member := ""
				if op == 1 {
					member = pick(arg)
				}
				instance := ""
				if arg%3 == 0 {
					instance = string('a' + rune(arg%4))
				}
				version := []int16{0, 3, 4, 5, 9}[arg%5]
				expected++
				h.c.JoinGroup(h.now, Client{ID: "c"}, joinReq(version, "g", member, instance), func(r *kmsg.JoinGroupResponse) {
					replies++
					if r.MemberID != "" {
						ids = append(ids, r.MemberID)
					}
				})
			case 2: // sync, as leader or not
				member := pick(arg)
				expected++
				h.c.SyncGroup(h.now, syncReq("g", member, gen, map[string]string{member: "x"}), func(*kmsg.SyncGroupResponse) { replies++ })
			case 3:
				h.heartbeat("g", pick(arg), gen)
			case 4:
				req := kmsg.NewPtrLeaveGroupRequest()
				req.Version, req.Group = int16(arg%6), "g"
				req.MemberID = pick(arg)
				req.Members = []kmsg.LeaveGroupRequestMember{{MemberID: pick(arg >> 1)}}
				h.c.LeaveGroup(h.now, req)
			case 5:
				h.commit(int16(arg%11), "g", pick(arg), gen, map[int32]int64{int32(arg % 5): int64(arg)})
			case 6:
				req := kmsg.NewPtrDescribeGroupsRequest()
				req.Groups = []string{"g"}
				h.c.DescribeGroups(req)
			case 7:
				req := kmsg.NewPtrDeleteGroupsRequest()
				req.Groups = []string{"g"}
				h.c.DeleteGroups(req)
			default:
				h.advance(time.Duration(arg) * 200 * time.Millisecond)
			}
			for _, s := range h.c.Summaries() {
				if s.Members > 4 {
					t.Fatalf("%d members, max size 4", s.Members)
				}
			}
		}
		// Time runs out for everybody: every deferred reply has come.
		h.advance(time.Hour)
		h.advance(time.Hour)
		if replies != expected {
			t.Fatalf("%d replies to %d deferred requests", replies, expected)
		}
	})
}
