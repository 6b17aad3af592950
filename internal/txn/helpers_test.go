package txn

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// harness drives a coordinator as the broker does: it appends the records
// of every Write to an in-memory state topic, finishes it, and keeps the
// markers handed out until the test writes them.
type harness struct {
	t   testing.TB
	cfg Config
	c   *Coordinator
	now time.Time
	// log is the state topic: every record appended, in order.
	log []Record
	// markers are the markers handed out and not yet written.
	markers []Markers
}

var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newHarness(t testing.TB, opts ...func(*Config)) *harness {
	cfg := Config{}
	for _, o := range opts {
		o(&cfg)
	}
	return &harness{t: t, cfg: cfg, c: New(cfg), now: start}
}

// apply appends w's records and finishes it successfully.
func (h *harness) apply(w *Write) *Write {
	h.t.Helper()
	h.log = append(h.log, w.Records...)
	h.c.Finish(w, 0)
	h.markers = append(h.markers, w.Markers...)
	return w
}

// failAppend finishes w as if its append failed with code.
func (h *harness) failAppend(w *Write, code int16) *Write {
	h.t.Helper()
	h.c.Finish(w, code)
	return w
}

func (h *harness) advance(d time.Duration) { h.now = h.now.Add(d) }

func initReq(version int16, id string, timeout time.Duration, pid int64, epoch int16) *kmsg.InitProducerIDRequest {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version = version
	if id != "" {
		req.TransactionalID = kmsg.StringPtr(id)
	}
	req.TransactionTimeoutMillis = int32(timeout.Milliseconds())
	req.ProducerID, req.ProducerEpoch = pid, epoch
	return req
}

// initPID sends InitProducerId (version 5, without a producer id) and
// returns the answer.
func (h *harness) initPID(id string) *kmsg.InitProducerIDResponse {
	h.t.Helper()
	return h.apply(h.c.InitProducerID(h.now, initReq(5, id, time.Minute, -1, -1))).Response.(*kmsg.InitProducerIDResponse)
}

// producer is a transactional producer as a client holds it.
type producer struct {
	id    string
	pid   int64
	epoch int16
}

// newProducer initializes a transactional producer, which must succeed.
func (h *harness) newProducer(id string) producer {
	h.t.Helper()
	resp := h.initPID(id)
	if resp.ErrorCode != 0 {
		h.t.Fatalf("InitProducerId %q: %v", id, kerr.ErrorForCode(resp.ErrorCode))
	}
	return producer{id, resp.ProducerID, resp.ProducerEpoch}
}

func addReq(version int16, p producer, tps ...TopicPartition) *kmsg.AddPartitionsToTxnRequest {
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = version
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = p.id, p.pid, p.epoch
	for _, tp := range tps {
		i := slices.IndexFunc(req.Topics, func(t kmsg.AddPartitionsToTxnRequestTopic) bool { return t.Topic == tp.Topic })
		if i < 0 {
			req.Topics = append(req.Topics, kmsg.AddPartitionsToTxnRequestTopic{Topic: tp.Topic})
			i = len(req.Topics) - 1
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, tp.Partition)
	}
	return req
}

// add sends AddPartitionsToTxn version 3 and returns the code of the
// partitions (which must all have the same).
func (h *harness) add(p producer, tps ...TopicPartition) int16 {
	h.t.Helper()
	resp := h.apply(h.c.AddPartitionsToTxn(h.now, addReq(3, p, tps...))).Response.(*kmsg.AddPartitionsToTxnResponse)
	return sameCode(h.t, resp.Topics)
}

// sameCode returns the error code of every partition of a version 0-3
// response, failing the test if they differ.
func sameCode(t testing.TB, topics []kmsg.AddPartitionsToTxnResponseTopic) int16 {
	t.Helper()
	codes := map[int16]bool{}
	var c int16
	for _, rt := range topics {
		for _, rp := range rt.Partitions {
			codes[rp.ErrorCode], c = true, rp.ErrorCode
		}
	}
	if len(codes) != 1 {
		t.Fatalf("partition codes %v, want one", codes)
	}
	return c
}

func endReq(version int16, p producer, commit bool) *kmsg.EndTxnRequest {
	req := kmsg.NewPtrEndTxnRequest()
	req.Version = version
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = p.id, p.pid, p.epoch, commit
	return req
}

// end sends EndTxn and returns the answer.
func (h *harness) end(version int16, p producer, commit bool) *kmsg.EndTxnResponse {
	h.t.Helper()
	return h.apply(h.c.EndTxn(h.now, endReq(version, p, commit))).Response.(*kmsg.EndTxnResponse)
}

// writeMarkers writes every marker handed out and reports them, as the
// broker does, and returns them.
func (h *harness) writeMarkers() []Markers {
	h.t.Helper()
	var written []Markers
	for len(h.markers) > 0 {
		m := h.markers[0]
		h.markers = h.markers[1:]
		written = append(written, m)
		h.apply(h.c.MarkersWritten(h.now, m))
	}
	return written
}

// state returns the transactional id's state, producer id and epoch as
// DescribeTransactions reports them.
func (h *harness) state(id string) kmsg.DescribeTransactionsResponseTransactionState {
	h.t.Helper()
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{id}
	return h.c.DescribeTransactions(req).TransactionStates[0]
}

// wantState fails the test unless id is in state at (pid, epoch).
func (h *harness) wantState(id string, state State, pid int64, epoch int16) {
	h.t.Helper()
	st := h.state(id)
	if st.ErrorCode != 0 || st.State != state.String() || st.ProducerID != pid || st.ProducerEpoch != epoch {
		h.t.Fatalf("%q: %s %d/%d (error %d), want %s %d/%d", id, st.State, st.ProducerID, st.ProducerEpoch, st.ErrorCode, state, pid, epoch)
	}
}

// replay returns a coordinator loaded from the harness's state topic.
func (h *harness) replay() *Coordinator {
	h.t.Helper()
	c := New(h.cfg)
	for i, r := range h.log {
		if err := c.Replay(r.Key, r.Value); err != nil {
			h.t.Fatalf("replay record %d: %v", i, err)
		}
	}
	return c
}

// restart replaces the coordinator with one replayed from the state topic
// (the markers not written are lost with the process) and recovers it.
func (h *harness) restart() []Markers {
	h.t.Helper()
	h.c = h.replay()
	h.markers = h.c.Recover(h.now)
	return h.markers
}

func tp(topic string, partition int32) TopicPartition { return TopicPartition{topic, partition} }

// wantCode fails the test unless got is want.
func wantCode(t testing.TB, what string, got int16, want *kerr.Error) {
	t.Helper()
	w := int16(0)
	if want != nil {
		w = want.Code
	}
	if got != w {
		t.Fatalf("%s: %v, want %v", what, kerr.ErrorForCode(got), kerr.ErrorForCode(w))
	}
}
