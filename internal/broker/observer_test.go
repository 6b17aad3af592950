package broker

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestErrorCodes(t *testing.T) {
	produce := kmsg.NewPtrProduceResponse()
	for _, codes := range [][]int16{{0, kerr.UnknownTopicOrPartition.Code}, {kerr.UnknownTopicOrPartition.Code, kerr.MessageTooLarge.Code}} {
		rt := kmsg.NewProduceResponseTopic()
		for _, code := range codes {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.ErrorCode = code
			rt.Partitions = append(rt.Partitions, rp)
		}
		produce.Topics = append(produce.Topics, rt)
	}
	metadata := kmsg.NewPtrMetadataResponse()
	mt := kmsg.NewMetadataResponseTopic()
	mt.ErrorCode = kerr.InvalidTopicException.Code
	mp := kmsg.NewMetadataResponseTopicPartition()
	mp.ErrorCode = kerr.LeaderNotAvailable.Code
	mt.Partitions = append(mt.Partitions, mp)
	metadata.Topics = append(metadata.Topics, mt)
	fetch := kmsg.NewPtrFetchResponse()
	fetch.ErrorCode = kerr.FetchSessionIDNotFound.Code
	versions := kmsg.NewPtrApiVersionsResponse()

	for _, c := range []struct {
		name string
		resp kmsg.Response
		want []int16
	}{
		{"partition codes, distinct", produce, []int16{kerr.UnknownTopicOrPartition.Code, kerr.MessageTooLarge.Code}},
		{"topic and partition codes", metadata, []int16{kerr.InvalidTopicException.Code, kerr.LeaderNotAvailable.Code}},
		{"top-level code", fetch, []int16{kerr.FetchSessionIDNotFound.Code}},
		{"no error", versions, nil},
		{"again, from the cached plan", produce, []int16{kerr.UnknownTopicOrPartition.Code, kerr.MessageTooLarge.Code}},
	} {
		if got := errorCodes(nil, c.resp); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
