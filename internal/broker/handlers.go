package broker

import (
	"context"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// request is one request being served.
type request struct {
	header requestHeader
	body   kmsg.Request
	host   string // the client's address, "/" and its IP as Kafka shows it

	// turn, for a produce request, is closed when the connection's
	// previous produce request has appended (nil: none before it);
	// turnDone is closed when this one has (conn.go).
	turn     <-chan struct{}
	turnDone chan struct{}
	turnOnce sync.Once

	// afterEncode runs once the response is encoded (or the request has
	// failed): it releases what the response referred to, such as the
	// storage's read buffers.
	afterEncode []func()
}

// encoded runs the afterEncode functions.
func (r *request) encoded() {
	for _, f := range r.afterEncode {
		f()
	}
	r.afterEncode = nil
}

// awaitTurn waits until the requests this one must append after have.
func (r *request) awaitTurn() {
	if r.turn != nil {
		<-r.turn
	}
}

// endTurn lets the next request append; calls after the first do
// nothing.
func (r *request) endTurn() {
	r.turnOnce.Do(func() {
		if r.turnDone != nil {
			close(r.turnDone)
		}
	})
}

// handler serves one API. A nil response sends nothing (a produce with
// acks=0); an error closes the connection.
type handler struct {
	key      int16
	min, max int16
	serve    func(ctx context.Context, r *request) (kmsg.Response, error)
}

// handlers lists every API the broker serves. The versions advertised by
// ApiVersions are exactly these.
func (b *Broker) handlers() []handler {
	return []handler{
		b.produceHandler(),
		b.fetchHandler(),
		b.listOffsetsHandler(),
		b.apiVersionsHandler(),
		b.metadataHandler(),
		b.createTopicsHandler(),
		b.deleteTopicsHandler(),
		b.deleteRecordsHandler(),
		b.offsetForLeaderEpochHandler(),
		b.describeConfigsHandler(),
		b.alterConfigsHandler(),
		b.describeLogDirsHandler(),
		b.createPartitionsHandler(),
		b.incrementalAlterConfigsHandler(),
		b.describeClusterHandler(),
		b.offsetCommitHandler(),
		b.offsetFetchHandler(),
		b.findCoordinatorHandler(),
		b.joinGroupHandler(),
		b.heartbeatHandler(),
		b.leaveGroupHandler(),
		b.syncGroupHandler(),
		b.describeGroupsHandler(),
		b.listGroupsHandler(),
		b.deleteGroupsHandler(),
		b.offsetDeleteHandler(),
		b.consumerGroupHeartbeatHandler(),
		b.consumerGroupDescribeHandler(),
		b.initProducerIDHandler(),
		b.addPartitionsToTxnHandler(),
		b.addOffsetsToTxnHandler(),
		b.endTxnHandler(),
		b.txnOffsetCommitHandler(),
		b.describeTransactionsHandler(),
		b.listTransactionsHandler(),
		b.describeProducersHandler(),
	}
}

// apiKeys returns the advertised versions, by key.
func (b *Broker) apiKeys() []kmsg.ApiVersionsResponseApiKey {
	keys := make([]kmsg.ApiVersionsResponseApiKey, 0, len(b.handlerByKey))
	for _, h := range b.handlerByKey {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = h.key, h.min, h.max
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ApiKey < keys[j].ApiKey })
	return keys
}
