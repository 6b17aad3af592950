package broker

// DescribeCluster (key 60), versions 0-2.
//
// The cluster id, the controller (this node) and the brokers (this node,
// at its advertised address, never fenced). Asking for controller
// endpoints (endpoint type 2, version 1+) is UNSUPPORTED_ENDPOINT_TYPE, as
// it is from a Kafka broker. Authorized operations are not computed
// (Weir has no ACLs yet): the field is Kafka's "not requested" value.

import (
	"context"
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) describeClusterHandler() handler {
	return handler{key: kmsg.DescribeCluster.Int16(), min: 0, max: 2, serve: b.describeCluster}
}

func (b *Broker) describeCluster(_ context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.EndpointType = req.EndpointType
	resp.ClusterAuthorizedOperations = math.MinInt32
	if req.Version >= 1 && req.EndpointType != 1 {
		resp.ErrorCode = kerr.UnsupportedEndpointType.Code
		resp.ErrorMessage = kmsg.StringPtr("a broker describes brokers (endpoint type 1)")
		return resp, nil
	}
	resp.ClusterID = b.cfg.ClusterID
	resp.ControllerID = b.cfg.NodeID
	broker := kmsg.NewDescribeClusterResponseBroker()
	broker.NodeID, broker.Host, broker.Port = b.cfg.NodeID, b.cfg.AdvertisedHost, b.cfg.AdvertisedPort
	resp.Brokers = append(resp.Brokers, broker)
	return resp, nil
}
