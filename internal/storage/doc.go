// Package storage is Weir's storage engine: every partition of every topic
// on a node, kept in one commit log with a per-partition index, so that a
// million partitions cost memory for their state and index entries, not a
// file, a goroutine or a timer each.
//
// # Layout
//
// Dir/log holds the commit log (package commitlog): every record batch, as
// the Kafka protocol carries it with its base offset assigned, and every
// change to a partition's state, as entries of one append-only sequence of
// segment files (entries.go lists the kinds). Dir/index is a Pebble
// database holding the catalog (topics, partitions) and the index: for each
// batch, where its entry lies in the log (keys.go); beside it, per
// partition, the idempotent producers' states (producers.go) and the
// transactions, which give the last stable offset and the aborted
// transactions of read_committed reads (transactions.go). Pebble is a
// view of the log: it holds the effect of every entry below the checkpoint
// position C durably, and of later entries as far as its own write-ahead
// log reached.
//
// # Operations
//
// Every change is first an entry appended to the log, then applied to
// Pebble and to the partition's in-memory state. An append is durable
// when the log's synced position passes its end (WaitDurable; see the group
// commit essay in commitlog/sync.go). A checkpoint reads a log position C
// below which every entry's effect is in Pebble, waits until the log is
// synced past C, and writes C to Pebble with a synced write.
//
// # Recovery
//
// Open replays the log from C to its end into Pebble (replaying is
// idempotent: an entry applied twice has the effect of one), then scans the
// whole index once to derive each partition's log end, size and maximum
// timestamp and each segment's live bytes, dropping index entries that point
// past the valid end of the log (possible only after a machine crash under
// a policy other than durable). A torn tail is truncated by the commit log.
//
// # Concurrency and lock order
//
// Locks are taken in this order, never the reverse:
//
//	Engine.catalogMu   serialises catalog changes (create, delete, configs)
//	Engine.cleanMu     serialises the cleaner's passes and checkpoints
//	Engine.catalogFileMu  serialises writes of the catalog file
//	Engine.applyMu     shared by every operation from its log append until
//	                   its effect is in Pebble; exclusive for a checkpoint
//	                   to read C
//	Partition.mu       a partition's state; held across an append so that
//	                   offsets are assigned in log order
//	Engine.mu          the topic and partition maps
//	Engine.segMu       live bytes per segment
//	spaceGuard.mu      the free-space estimate (a leaf, like the commit
//	                   log's own locks)
//
// Readers take only Partition.mu, briefly, to read offsets; they read the
// index and the log without locks (a segment is pinned while it is read).
package storage
