package broker

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// request is one request being served.
type request struct {
	header requestHeader
	body   kmsg.Request
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
