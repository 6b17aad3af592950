package broker

// ApiVersions (key 18), versions 0-4.
//
// Lists every API the broker serves with the versions of its handler, and
// from version 3 the feature transaction.version (txn_version.go). A
// request of a version the broker does not serve is answered, as Kafka
// does, with UNSUPPORTED_VERSION in a version 0 response that still lists
// the APIs, so that the client can pick a version (conn.go).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) apiVersionsHandler() handler {
	return handler{key: kmsg.ApiVersions.Int16(), min: 0, max: 4, serve: b.apiVersions}
}

func (b *Broker) apiVersions(_ context.Context, r *request) (kmsg.Response, error) {
	resp := r.body.ResponseKind().(*kmsg.ApiVersionsResponse)
	resp.ApiKeys = b.apiKeys()
	b.addFeatures(resp)
	return resp, nil
}

// unsupportedApiVersions answers an ApiVersions request of a version the
// broker does not serve.
func (b *Broker) unsupportedApiVersions() *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = b.apiKeys()
	return resp
}
