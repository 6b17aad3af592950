package txn

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Producer ids are never handed out twice, across restarts, failed
// appends and blocks; a block is durable before any of its ids is
// answered.
func TestProducerIDsNeverReused(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ProducerIDBlockSize = 3 })
	seen := map[int64]string{}
	answered := func(what string, pid int64) {
		t.Helper()
		if pid < 0 {
			t.Fatalf("%s: no producer id", what)
		}
		if before, ok := seen[pid]; ok {
			t.Fatalf("%s: producer id %d again (first: %s)", what, pid, before)
		}
		seen[pid] = what
		// Whatever was answered must be covered by the durable log.
		if c := h.replay(); c.ids.next <= pid {
			t.Fatalf("%s: producer id %d answered, a restart would hand out %d", what, pid, c.ids.next)
		}
	}
	for round := range 4 {
		for i := range 4 {
			resp := h.apply(h.c.InitProducerID(h.now, initReq(2, "", 0, -1, -1))).Response.(*kmsg.InitProducerIDResponse)
			answered(fmt.Sprintf("round %d idempotent %d", round, i), resp.ProducerID)
			answered(fmt.Sprintf("round %d transactional %d", round, i), h.newProducer(fmt.Sprintf("t%d-%d", round, i)).pid)
		}
		// An append that fails: its block is written by the next one.
		w := h.c.InitProducerID(h.now, initReq(2, "", 0, -1, -1))
		h.failAppend(w, kerr.KafkaStorageError.Code)
		// A write appended but not finished when the process dies: its
		// ids were never answered, but the block may be in the log.
		w = h.c.InitProducerID(h.now, initReq(2, "", 0, -1, -1))
		h.log = append(h.log, w.Records...)
		h.restart()
	}
}

// A rotation (exhausted epoch) allocates too, and a replayed producer id
// is never handed out even if no block record covers it.
func TestProducerIDsAfterRotation(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	h.c.txns["t"].meta.epoch = maxEpoch - 1
	rotated := h.initPID("t")
	if rotated.ProducerID == p.pid {
		t.Fatal("no rotation")
	}
	c := New(Config{})
	for _, r := range h.log {
		if binary.BigEndian.Uint16(r.Key) == txnKeyVersion { // no block records
			if err := c.Replay(r.Key, r.Value); err != nil {
				t.Fatal(err)
			}
		}
	}
	w := c.InitProducerID(h.now, initReq(2, "", 0, -1, -1))
	if id := w.Response.(*kmsg.InitProducerIDResponse).ProducerID; id <= rotated.ProducerID {
		t.Fatalf("allocated %d after replaying producer id %d", id, rotated.ProducerID)
	}
}
