package kafkabench

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// clientID is the client.id every client of the benchmark sends.
const clientID = "weir-bench"

// codec returns the kgo codec of a Config.Compression name.
func codec(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("compression %q: want one of %v", name, Compressions)
}

// adminOptions are the options of the client that creates the topic and
// lists offsets.
func (c Config) adminOptions() []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.ClientID(clientID)}
}

// producerOptions are the options of every producer's client.
//
// The broker may not serve InitProducerID (Weir does not yet): an
// idempotent franz-go producer then goes on without a producer id. With
// acks other than all, idempotence is impossible and is turned off, which
// lets MaxInflight apply.
func (c Config) producerOptions() ([]kgo.Opt, error) {
	compression, err := codec(c.Compression)
	if err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(clientID),
		kgo.DefaultProduceTopic(c.Topic),
		kgo.ProducerBatchCompression(compression),
		kgo.ProducerLinger(c.Linger),
		kgo.ProducerBatchMaxBytes(c.BatchMaxBytes),
		kgo.RecordDeliveryTimeout(c.DeliveryTimeout),
		// The record pool bounds what is buffered; the client's own
		// bound sits above it so that Produce never blocks on it (a
		// record goes back to the pool in its promise, a moment before
		// the client stops counting it).
		kgo.MaxBufferedRecords(2*c.BufferedRecords + 1),
	}
	switch c.Acks {
	case AcksAll:
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case AcksLeader:
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	case AcksNone:
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	}
	if c.idempotent() {
		// Without this an idempotent producer never fails a record once
		// its request is sent, and a dead broker would hang the run
		// instead of showing in its errors.
		opts = append(opts, kgo.AllowIdempotentProduceCancellation())
	} else {
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(c.MaxInflight))
	}
	return opts, nil
}

// consumerOptions are the options of a consumer's client reading the
// given partitions from the given offsets.
func (c Config) consumerOptions(start map[int32]int64) []kgo.Opt {
	offsets := make(map[int32]kgo.Offset, len(start))
	for p, o := range start {
		offsets[p] = kgo.NewOffset().At(o)
	}
	return []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(clientID),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.Topic: offsets}),
		kgo.FetchMaxBytes(c.FetchMaxBytes),
		kgo.FetchMaxPartitionBytes(c.FetchMaxPartitionBytes),
	}
}
