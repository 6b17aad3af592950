package broker

// Fetch sessions (KIP-227).
//
// A consumer fetching many partitions sends the whole list once, in a full
// fetch with session epoch 0; the broker answers with a session id, and
// from then on the consumer sends incremental fetches (that id, the next
// epoch, only the partitions whose fetch position changed, and those it
// forgets), and the broker answers with only the partitions that have
// something new: records, an error, or a high watermark, last stable
// offset or log start offset other than the one the consumer last saw.
//
// The rules, per request (version 7 and later; earlier versions have no
// sessions):
//   - epoch -1 (final): close the session named, if any; the request is a
//     full fetch of its partitions, without a session (response id 0).
//   - epoch 0 (initial): close the session named, if any; create a session
//     holding the request's partitions and answer in full with its id.
//     When every slot is taken by a session used within the idle time, no
//     session is created (id 0) and the client goes on with full fetches,
//     as the protocol allows.
//   - epoch > 0: the session must exist (else FETCH_SESSION_ID_NOT_FOUND)
//     and expect this epoch (else INVALID_FETCH_SESSION_EPOCH). Its
//     partitions are updated and forgotten as the request says, then all
//     of them are read, in the session's order, and the answer holds those
//     with something new. A session left with no partitions ends (the
//     answer has id 0).
//
// Partitions that returned records move to the end of the session's order,
// so that when max_bytes runs out the next fetch starts with the others.
// Sessions belong to the node, not to a connection (a client may reconnect
// and go on). The state here does no I/O: fetch (01_fetch.go) reads the
// partitions between begin and finish.

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	// fetchSessionSlots bounds the sessions a node keeps (Kafka's
	// max.incremental.fetch.session.cache.slots).
	fetchSessionSlots = 1000
	// fetchSessionIdle is how long a session must have been unused before
	// a new one may take its slot (Kafka's
	// min.incremental.fetch.session.eviction.ms).
	fetchSessionIdle = 2 * time.Minute
)

// fetchKey names a partition.
type fetchKey struct {
	topic     string
	partition int32
}

// fetchTarget is a partition to read and how.
type fetchTarget struct {
	fetchKey
	offset   int64
	maxBytes int32
}

// sessionPartition is a partition of a session: where the client fetches
// and what it was last told.
type sessionPartition struct {
	fetchTarget
	highWatermark, lastStable, logStart int64
}

// fetchSession is one client's session.
type fetchSession struct {
	id    int32
	epoch int32 // the epoch the next request must carry
	// order is the fetch order; byKey indexes it.
	order    []*sessionPartition
	byKey    map[fetchKey]*sessionPartition
	lastUsed time.Time
}

// fetchPlan is what a fetch request resolves to.
type fetchPlan struct {
	targets []fetchTarget
	// session is nil for a fetch without a session.
	session *fetchSession
	// incremental: the response lists only partitions with news.
	incremental bool
}

// fetchSessions is the node's session cache. mu guards byID and every
// field of every session in it; begin and finish hold it throughout, and
// do no I/O while they do.
type fetchSessions struct {
	mu    sync.Mutex
	slots int
	idle  time.Duration
	byID  map[int32]*fetchSession
}

func newFetchSessions(slots int, idle time.Duration) *fetchSessions {
	return &fetchSessions{slots: slots, idle: idle, byID: make(map[int32]*fetchSession)}
}

// begin resolves a request into the partitions to read, or a top-level
// error code.
func (s *fetchSessions) begin(req *kmsg.FetchRequest, now time.Time) (fetchPlan, int16) {
	if req.Version < 7 {
		return fetchPlan{targets: requestTargets(req)}, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case req.SessionEpoch == -1:
		delete(s.byID, req.SessionID)
		return fetchPlan{targets: requestTargets(req)}, 0
	case req.SessionEpoch == 0:
		delete(s.byID, req.SessionID)
		plan := fetchPlan{targets: requestTargets(req)}
		plan.session = s.createLocked(plan.targets, now)
		return plan, 0
	case req.SessionEpoch < 0:
		return fetchPlan{}, kerr.InvalidFetchSessionEpoch.Code
	}
	sess := s.byID[req.SessionID]
	if sess == nil {
		return fetchPlan{}, kerr.FetchSessionIDNotFound.Code
	}
	if sess.epoch != req.SessionEpoch {
		return fetchPlan{}, kerr.InvalidFetchSessionEpoch.Code
	}
	sess.epoch = nextEpoch(sess.epoch)
	sess.lastUsed = now
	for _, t := range requestTargets(req) {
		if sp := sess.byKey[t.fetchKey]; sp != nil {
			sp.fetchTarget = t
		} else {
			sess.add(t)
		}
	}
	for _, ft := range req.ForgottenTopics {
		for _, p := range ft.Partitions {
			sess.forget(fetchKey{ft.Topic, p})
		}
	}
	if len(sess.order) == 0 {
		// Nothing left to fetch: the session ends, as on Kafka, and the
		// client starts a new one when it has partitions again.
		delete(s.byID, sess.id)
		return fetchPlan{}, 0
	}
	plan := fetchPlan{session: sess, incremental: true, targets: make([]fetchTarget, len(sess.order))}
	for i, sp := range sess.order {
		plan.targets[i] = sp.fetchTarget
	}
	return plan, 0
}

// finish records what the response tells the client and, for an
// incremental fetch, drops from it the partitions without news. It
// returns the session id for the response.
func (s *fetchSessions) finish(plan fetchPlan, resp *kmsg.FetchResponse) int32 {
	if plan.session == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := plan.session
	var moved []*sessionPartition
	topics := resp.Topics[:0]
	for _, st := range resp.Topics {
		partitions := st.Partitions[:0]
		for _, p := range st.Partitions {
			sp := sess.byKey[fetchKey{st.Topic, p.Partition}]
			news := sp == nil || !plan.incremental || len(p.RecordBatches) > 0 || p.ErrorCode != 0 ||
				p.HighWatermark != sp.highWatermark || p.LastStableOffset != sp.lastStable || p.LogStartOffset != sp.logStart
			if !news {
				continue
			}
			if sp != nil {
				sp.highWatermark, sp.lastStable, sp.logStart = p.HighWatermark, p.LastStableOffset, p.LogStartOffset
				if len(p.RecordBatches) > 0 {
					moved = append(moved, sp)
				}
			}
			partitions = append(partitions, p)
		}
		if len(partitions) > 0 {
			st.Partitions = partitions
			topics = append(topics, st)
		}
	}
	resp.Topics = topics
	sess.moveToEnd(moved)
	if s.byID[sess.id] != sess {
		return 0 // closed or evicted meanwhile
	}
	return sess.id
}

// createLocked makes a session of the targets, or returns nil when every
// slot is taken by a session in use.
// REQUIRES: s.mu is held.
func (s *fetchSessions) createLocked(targets []fetchTarget, now time.Time) *fetchSession {
	if len(s.byID) >= s.slots && !s.evictLocked(now) {
		return nil
	}
	id := rand.Int32N(math.MaxInt32) + 1
	for s.byID[id] != nil {
		id = rand.Int32N(math.MaxInt32) + 1
	}
	sess := &fetchSession{id: id, epoch: 1, byKey: make(map[fetchKey]*sessionPartition), lastUsed: now}
	for _, t := range targets {
		sess.add(t)
	}
	s.byID[id] = sess
	return sess
}

// evictLocked removes the least recently used session if it has been idle
// long enough.
// REQUIRES: s.mu is held.
func (s *fetchSessions) evictLocked(now time.Time) bool {
	var oldest *fetchSession
	for _, sess := range s.byID {
		if oldest == nil || sess.lastUsed.Before(oldest.lastUsed) {
			oldest = sess
		}
	}
	if oldest == nil || now.Sub(oldest.lastUsed) < s.idle {
		return false
	}
	delete(s.byID, oldest.id)
	return true
}

// add appends a partition to the session; the client has been told
// nothing about it yet.
func (sess *fetchSession) add(t fetchTarget) {
	sp := &sessionPartition{fetchTarget: t, highWatermark: -2, lastStable: -2, logStart: -2}
	sess.order = append(sess.order, sp)
	sess.byKey[t.fetchKey] = sp
}

func (sess *fetchSession) forget(k fetchKey) {
	sp := sess.byKey[k]
	if sp == nil {
		return
	}
	delete(sess.byKey, k)
	for i, o := range sess.order {
		if o == sp {
			sess.order = append(sess.order[:i], sess.order[i+1:]...)
			break
		}
	}
}

// moveToEnd moves the given partitions to the end of the fetch order,
// keeping their relative order.
func (sess *fetchSession) moveToEnd(moved []*sessionPartition) {
	if len(moved) == 0 {
		return
	}
	isMoved := make(map[*sessionPartition]bool, len(moved))
	for _, sp := range moved {
		isMoved[sp] = true
	}
	kept := sess.order[:0]
	for _, sp := range sess.order {
		if !isMoved[sp] {
			kept = append(kept, sp)
		}
	}
	for _, sp := range moved {
		if sess.byKey[sp.fetchKey] == sp {
			kept = append(kept, sp)
		}
	}
	sess.order = kept
}

// nextEpoch follows epoch, wrapping to 1 after the largest.
func nextEpoch(epoch int32) int32 {
	if epoch == math.MaxInt32 {
		return 1
	}
	return epoch + 1
}

// requestTargets lists the partitions of a request, in its order; a
// partition named twice is fetched once, as its last mention says, where
// it was first named.
func requestTargets(req *kmsg.FetchRequest) []fetchTarget {
	var targets []fetchTarget
	at := make(map[fetchKey]int)
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			t := fetchTarget{fetchKey{rt.Topic, rp.Partition}, rp.FetchOffset, rp.PartitionMaxBytes}
			if i, ok := at[t.fetchKey]; ok {
				targets[i] = t
				continue
			}
			at[t.fetchKey] = len(targets)
			targets = append(targets, t)
		}
	}
	return targets
}
