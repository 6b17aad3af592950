// Package metrics exposes a node's metrics in the Prometheus format and its
// health over HTTP.
//
// Metrics holds a registry of its own (not Prometheus' global one), and
// plugs into the layers below through the observer interfaces they define,
// so that they do not depend on this package:
//
//   - Broker() is a broker.Observer (set as broker.Config.Observer):
//     requests, errors and latency per API, connections, record bytes in
//     and out per topic.
//   - CommitLog() is a commitlog.Observer (set as
//     storage.Options.LogObserver): fsync latency and size, write-group
//     sizes, fsync errors.
//   - WatchStorage(engine) adds what is read from the engine when scraped:
//     topics, partitions and bytes per topic, the commit log's disk use.
//   - WatchGroups(coordinator, engine) adds the consumer groups, read when
//     scraped: states, members, rebalances, committed offsets and lag.
//   - WatchTransactions(coordinator) adds the transaction coordinator's
//     totals, read when scraped: transactional ids, transactions open and
//     completing, commits, aborts, timeouts, fenced producers.
//
// Nothing is kept per partition: a node can hold a million partitions, and
// a series each would cost more than the partitions themselves. Partition
// sizes are summed per topic when scraped. The one exception is a group's
// committed offset and lag, per partition it committed: as many series as
// offsets the coordinator keeps anyway, and lag is what groups are
// watched for.
//
// Handler serves /metrics, /healthz (the process is up) and /readyz (every
// condition of the Readiness holds: storage open, Kafka listener
// accepting, no failed fsync). docs/operations.md lists every metric.
package metrics
