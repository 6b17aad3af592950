package txn

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// driver runs operations chosen by a random source (or a fuzzer) against
// a harness, as clients, partition leaders, the marker writer and the
// timer would, and checks the coordinator's invariants after each one.
type driver struct {
	t testing.TB
	h *harness
	// clients is what the current client of each transactional id holds;
	// zombies are producers that were replaced.
	clients map[string]producer
	zombies []producer
	// answered are the producer ids handed out to clients, and to which
	// transactional id ("" for idempotent producers).
	answered map[int64]string
	// last is the producer id and epoch each id was last seen with.
	last map[string]producerEpoch
	// shadow replays the state topic as it grows (up to replayed
	// records): what a restart would load.
	shadow   *Coordinator
	replayed int
	// trace is what was done, for failure messages.
	trace []string
}

var driverIDs = []string{"a", "b", "c"}

func newDriver(t testing.TB) *driver {
	h := newHarness(t, func(c *Config) { c.ProducerIDBlockSize = 4; c.IDExpiration = time.Hour })
	// "c" starts a few epochs before exhaustion, so that rotations to a
	// new producer id happen too.
	h.log = append(h.log, txnRecord("c", metadata{producerID: 0, prevProducerID: 0, nextProducerID: -1,
		epoch: maxEpoch - 4, timeoutMs: 60000, state: StateEmpty, startMs: -1, updateMs: millis(h.now)}))
	h.restart()
	return &driver{t: t, h: h, clients: map[string]producer{}, answered: map[int64]string{}, last: map[string]producerEpoch{},
		shadow: New(h.cfg)}
}

// client returns the producer of id an operation uses: the current
// client, or (when zombie) an older one.
func (d *driver) client(id string, zombie bool) producer {
	if zombie && len(d.zombies) > 0 {
		return d.zombies[len(d.zombies)-1]
	}
	if p, ok := d.clients[id]; ok {
		return p
	}
	return producer{id: id, pid: 999, epoch: 0}
}

// partitions returns one to three partitions chosen by arg.
func partitions(arg byte) []TopicPartition {
	tps := []TopicPartition{tp("x", int32(arg%3))}
	if arg&8 != 0 {
		tps = append(tps, tp("y", int32(arg>>4%2)))
	}
	if arg&64 != 0 {
		tps = append(tps, tp("__consumer_offsets", 0))
	}
	return tps
}

// run does one operation; every Write is appended and finished (or
// failed, when failAppend) before the next.
func (d *driver) step(op, arg byte) {
	h := d.h
	id := driverIDs[int(arg)%len(driverIDs)]
	zombie := arg&128 != 0
	p := d.client(id, zombie)
	failAppend := arg%7 == 6
	finish := func(w *Write) *Write {
		if failAppend && len(w.Records) > 0 {
			return h.failAppend(w, kerr.KafkaStorageError.Code)
		}
		return h.apply(w)
	}
	d.trace = append(d.trace, fmt.Sprintf("op %d arg %d (%s, zombie %v, fail %v)", op%12, arg, id, zombie, failAppend))
	switch op % 13 {
	case 0: // InitProducerId, maybe KIP-360
		version := []int16{2, 3, 4, 5}[arg>>3%4]
		pid, epoch := int64(-1), int16(-1)
		if arg&4 != 0 {
			pid, epoch = p.pid, p.epoch
		}
		resp := finish(h.c.InitProducerID(h.now, initReq(version, id, time.Duration(1+arg%3)*time.Minute, pid, epoch))).Response.(*kmsg.InitProducerIDResponse)
		if resp.ErrorCode == 0 {
			d.gotProducerID(id, resp.ProducerID)
			if old, ok := d.clients[id]; ok {
				d.zombies = append(d.zombies, old)
			}
			d.clients[id] = producer{id, resp.ProducerID, resp.ProducerEpoch}
		}
	case 1: // AddPartitionsToTxn from a version 1 client
		finish(h.c.AddPartitionsToTxn(h.now, addReq([]int16{1, 3}[arg%2], p, partitions(arg)...)))
	case 2: // a version 2 client's produce: its leader adds the partitions
		finish(h.c.AddToTransaction(h.now, p.id, p.pid, p.epoch, partitions(arg)))
	case 3: // AddOffsetsToTxn
		req := kmsg.NewPtrAddOffsetsToTxnRequest()
		req.Version = 3
		req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = p.id, p.pid, p.epoch, "g"
		finish(h.c.AddOffsetsToTxn(h.now, req))
	case 4: // EndTxn
		version := []int16{1, 4, 5, 5}[arg>>3%4]
		resp := finish(h.c.EndTxn(h.now, endReq(version, p, arg&2 != 0))).Response.(*kmsg.EndTxnResponse)
		if resp.ErrorCode == 0 && version >= 5 && !zombie {
			d.gotProducerID(id, resp.ProducerID)
			d.clients[id] = producer{id, resp.ProducerID, resp.ProducerEpoch}
		}
	case 5: // the marker writer: all of a transaction's markers, some, or none (the writes failed)
		if len(h.markers) == 0 {
			return
		}
		i := int(arg) % len(h.markers)
		m := h.markers[i]
		h.markers = slices.Delete(h.markers, i, i+1)
		switch {
		case arg&32 != 0:
			m.Partitions = nil
		case arg&16 != 0 && len(m.Partitions) > 1:
			m.Partitions = m.Partitions[:1]
		}
		finish(h.c.MarkersWritten(h.now, m))
	case 6: // time passes
		h.advance(time.Duration(arg) * time.Second)
		finish(h.c.Tick(h.now))
	case 7: // a long time passes
		h.advance(time.Duration(arg) * time.Minute)
		finish(h.c.Tick(h.now))
	case 8: // the process restarts
		h.restart()
	case 9: // an idempotent producer
		resp := finish(h.c.InitProducerID(h.now, initReq(4, "", 0, -1, -1))).Response.(*kmsg.InitProducerIDResponse)
		if resp.ErrorCode == 0 {
			d.gotProducerID("", resp.ProducerID)
		}
	case 10: // questions
		_ = h.c.VerifyProduce(p.id, p.pid, p.epoch, partitions(arg)[0])
		_ = h.c.VerifyTxnOffsetCommit(p.id, p.pid, p.epoch, "g")
		h.c.DescribeTransactions(&kmsg.DescribeTransactionsRequest{TransactionalIDs: driverIDs})
		h.c.ListTransactions(h.now, &kmsg.ListTransactionsRequest{Version: 1, DurationFilterMillis: int64(arg) * 1000})
		h.c.Summary()
		h.c.NextDeadline()
	case 12: // the timer of the marker writer: what is owed is handed out again
		h.markers = append(h.markers, h.c.PendingMarkers()...)
	case 11: // a batch from a partition leader: verify one, add another
		req := kmsg.NewPtrAddPartitionsToTxnRequest()
		req.Version = 5
		for i, q := range []producer{p, d.client(driverIDs[(int(arg)+1)%len(driverIDs)], false)} {
			tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
			tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = q.id, q.pid, q.epoch, i == 0
			tx.Topics = []kmsg.AddPartitionsToTxnRequestTransactionTopic{{Topic: "x", Partitions: []int32{int32(arg % 3)}}}
			req.Transactions = append(req.Transactions, tx)
		}
		finish(h.c.AddPartitionsToTxn(h.now, req))
	}
	d.check()
}

// gotProducerID records a producer id handed to a client of id: never
// one handed out before to another (a transactional id's answers repeat
// its own), and covered by the durable log.
func (d *driver) gotProducerID(id string, pid int64) {
	if owner, ok := d.answered[pid]; ok {
		if owner != id || id == "" {
			d.fail("producer id %d handed out to %q and %q", pid, owner, id)
		}
		return
	}
	d.answered[pid] = id
	for ; d.replayed < len(d.h.log); d.replayed++ {
		r := d.h.log[d.replayed]
		if err := d.shadow.Replay(r.Key, r.Value); err != nil {
			d.fail("replay record %d: %v", d.replayed, err)
		}
	}
	if next := d.shadow.ids.next; next <= pid {
		d.fail("producer id %d answered, a restart would hand it out again (next %d)", pid, next)
	}
}

// check verifies the coordinator's invariants.
func (d *driver) check() {
	c := d.h.c
	// A transaction's markers are held by one writer at a time: a second
	// marker written late could end the producer's next transaction.
	held := map[string]bool{}
	for _, m := range d.h.markers {
		if e := c.txns[m.TransactionalID]; e == nil || e.completion != m.completion {
			continue // stale: ignored when reported
		}
		if held[m.TransactionalID] {
			d.fail("%s: markers of one completion handed out twice", m.TransactionalID)
		}
		held[m.TransactionalID] = true
	}
	owners := map[int64]string{}
	for id, e := range c.txns {
		m := e.meta
		if e.pending != nil {
			d.fail("%s: a change pending after its Write was finished", id)
		}
		if (c.active[id] != nil) != (m.state == StateOngoing || m.preparing()) {
			d.fail("%s: in active %v, state %s", id, c.active[id] != nil, m.state)
		}
		if !m.preparing() && e.unmarked != nil || m.preparing() && e.unmarked == nil {
			d.fail("%s: unmarked %v in state %s", id, e.unmarked, m.state)
		}
		for tp := range e.unmarked {
			if !m.contains(tp) {
				d.fail("%s: marker pending for %v, not in the transaction", id, tp)
			}
		}
		if m.state != StateOngoing && !m.preparing() && len(m.partitions) > 0 {
			d.fail("%s: partitions %v in state %s", id, m.partitions, m.state)
		}
		if !slices.IsSortedFunc(m.partitions, TopicPartition.compare) {
			d.fail("%s: partitions not sorted: %v", id, m.partitions)
		}
		if m.epoch < 0 {
			d.fail("%s: epoch %d", id, m.epoch)
		}
		// A producer id belongs to one transactional id, so a partition
		// is in at most one ongoing transaction of a producer.
		if other, ok := owners[m.producerID]; ok {
			d.fail("producer id %d held by %s and %s", m.producerID, other, id)
		}
		owners[m.producerID] = id
		if m.producerID >= c.ids.next || m.nextProducerID >= c.ids.next {
			d.fail("%s: producer id %d/%d not below the next one %d", id, m.producerID, m.nextProducerID, c.ids.next)
		}
		// Epochs only move forward: (producer id, epoch) never decreases.
		now := producerEpoch{m.producerID, m.epoch}
		if before, ok := d.last[id]; ok && (now.id < before.id || now.id == before.id && now.epoch < before.epoch) {
			d.fail("%s: producer %d/%d after %d/%d", id, now.id, now.epoch, before.id, before.epoch)
		}
		d.last[id] = now
	}
	for id := range c.active {
		if c.txns[id] == nil {
			d.fail("%s active but unknown", id)
		}
	}
}

func (d *driver) fail(format string, args ...any) {
	d.t.Helper()
	d.t.Fatalf(format+"\nafter:\n%s", append(args, joinLines(d.trace))...)
}

func joinLines(lines []string) string {
	out := ""
	for _, l := range lines {
		out += "  " + l + "\n"
	}
	return out
}

// durable returns the durable part of the coordinator's state: the
// metadata of every transactional id.
func durable(c *Coordinator) map[string]metadata {
	out := make(map[string]metadata, len(c.txns))
	for _, id := range slices.Sorted(maps.Keys(c.txns)) {
		out[id] = c.txns[id].meta
	}
	return out
}
