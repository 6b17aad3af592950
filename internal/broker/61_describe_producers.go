package broker

// DescribeProducers (key 61), version 0: per partition, the producers the
// storage engine keeps state for: id, epoch, last sequence and append
// time, and the first offset of an open transaction.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) describeProducersHandler() handler {
	return handler{key: kmsg.DescribeProducers.Int16(), min: 0, max: 0, serve: b.describeProducers}
}

func (b *Broker) describeProducers(_ context.Context, r *request) (kmsg.Response, error) {
	req := r.body.(*kmsg.DescribeProducersRequest)
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewDescribeProducersResponseTopic()
		st.Topic = rt.Topic
		for _, partition := range rt.Partitions {
			sp := kmsg.NewDescribeProducersResponseTopicPartition()
			sp.Partition = partition
			p, err := b.engine.Partition(rt.Topic, partition)
			if err != nil {
				sp.ErrorCode = errorCode(err)
				sp.ErrorMessage = kmsg.StringPtr(err.Error())
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			for _, info := range p.Producers() {
				ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
				ap.ProducerID, ap.ProducerEpoch, ap.LastSequence = info.ID, int32(info.Epoch), info.LastSequence
				ap.LastTimestamp, ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = info.LastAppend, -1, info.TxnStartOffset
				sp.ActiveProducers = append(sp.ActiveProducers, ap)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
