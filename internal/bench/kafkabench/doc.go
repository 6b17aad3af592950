// Package kafkabench is a load generator for any broker that speaks the
// Kafka protocol (Weir, Apache Kafka, Redpanda). It is what `weir bench
// produce`, `weir bench consume`, `weir bench e2e` and `weir bench
// connections` run, and what this package's Go benchmarks and tests call.
// The clients are franz-go's (kgo, kadm); latencies go into HdrHistograms.
//
// # Workloads
//
//	produce      Config.Producers producers, each its own kgo.Client, send
//	             records of Config.RecordSize bytes to Config.Topic (created
//	             with Config.Partitions partitions if it does not exist),
//	             as fast as they can or at Config.Rate records/s in total,
//	             until Config.Duration has passed or Config.Records records
//	             were sent. Produce latency is from the Produce call to the
//	             promise (the broker's acknowledgement; for acks=0, the
//	             request written).
//	consume      Config.Consumers consumers, each its own kgo.Client with a
//	             share of the partitions (partition p to consumer
//	             p mod Consumers; no consumer group), read the topic from
//	             its start (or end) until Config.Records records or
//	             Config.Bytes bytes were read, Config.Duration passed, or,
//	             unless Config.Follow, every partition reached the end
//	             offset it had when the run began (what was there).
//	e2e          both at once: consumers start at the topic's end offsets,
//	             producers then send as in produce. Once the producers have
//	             stopped and every record is acknowledged, the end offsets
//	             are listed again, and consumers read up to them (waiting at
//	             most Config.DrainTimeout). End-to-end latency is the
//	             consumer's clock when PollFetches returned the record minus
//	             the stamp the producer put in its value.
//	connections  (ConnectionsConfig, RunConnections) opens many idle TCP
//	             connections that each complete one ApiVersions request,
//	             and reads the broker's resident memory before and after.
//
// # Records
//
// Values are generated before the run: random upper-case letters (about
// 4.7 bits of information per byte, so compression has something to do
// but not everything), a different window of them in each pooled record.
// Records have no key and are partitioned by kgo's default partitioner
// (sticky per batch). Each producer owns a pool of Config.BufferedRecords
// *kgo.Record, each with its own value buffer: sending takes a record from
// the pool, stamps it and hands it to the client; the promise records the
// latency and returns it to the pool. So nothing is allocated per record
// on the producing side, and the pool is the producer's bound on records
// buffered or in flight.
//
// The first 8 bytes of a value of at least 8 bytes are the stamp: the time
// the record was handed to the client, as big-endian nanoseconds since the
// run's epoch on the process's monotonic clock. Only the same process can
// interpret it, which is why end-to-end latency is measured by the e2e
// workload alone (producers and consumers in one process). A record whose
// stamp lies in the future or before the epoch was written by someone else
// and is counted as foreign, not measured.
//
// # Measurement
//
// Throughput is acknowledged (or consumed) records over the time from the
// start of the clients to the last acknowledgement (or last record
// consumed); MB/s counts key and value bytes, 10^6 bytes to the MB, as
// `weir bench storage` and dd do. Latencies are recorded in microseconds,
// from 1 µs to 10 minutes with three significant digits. Rate-limited
// producers send on an absolute schedule (the n-th record of a producer is
// due at start + n/rate); one that falls behind sends without waiting
// until it is back on schedule. Latency is measured from the moment a
// record is handed to the client, so time a producer spends waiting for a
// free pooled record is not in it (coordinated omission): compare the
// achieved rate with the target to see whether the broker kept up.
//
// Produce failures (after the client's own retries, or at the end of
// Config.DeliveryTimeout) are counted and the first distinct messages
// kept; nothing is dropped silently. In e2e, records the consumers did not
// get within the drain timeout are reported as missing.
package kafkabench
