package flow

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Guarantee is the processing guarantee of an application.
type Guarantee int

const (
	// ExactlyOnce commits each poll's output records, state changes
	// (changelog records) and input offsets in one Kafka transaction, so
	// that a crash at any point neither loses nor duplicates an effect
	// (Kafka Streams' exactly_once_v2: one transactional producer per
	// instance, zombies fenced by the consumer group's generation).
	// Downstream consumers read with isolation level read_committed.
	ExactlyOnce Guarantee = iota
	// AtLeastOnce commits input offsets after the output and changelog
	// records they caused are acknowledged: a crash may process some
	// records twice, never lose one.
	AtLeastOnce
)

// ErrorPolicy says what to do with a record that cannot be processed: its
// key or value does not decode, or an operator panicked on it.
type ErrorPolicy struct {
	// Skip logs the record and goes on; otherwise (and without a
	// DeadLetterTopic) processing stops: Run returns the error.
	Skip bool
	// DeadLetterTopic, when set, receives the record as it was read, with
	// headers saying why (flow.error, flow.topic, flow.partition,
	// flow.offset), and processing goes on.
	DeadLetterTopic string
}

// DefaultIdleTimeout is Config.IdleTimeout when zero.
const DefaultIdleTimeout = 5 * time.Second

// Config configures an application. ApplicationID and Brokers are
// required; the rest have defaults.
type Config struct {
	// ApplicationID names the application: its consumer group, the
	// prefix of its internal topics, its local state directory.
	ApplicationID string
	// Brokers are the bootstrap brokers (host:port).
	Brokers []string
	// Guarantee is ExactlyOnce (the default) or AtLeastOnce.
	Guarantee Guarantee
	// CommitInterval is how often progress is committed (100 ms under
	// exactly-once, 30 s at least once, as Kafka Streams).
	CommitInterval time.Duration
	// IdleTimeout is how long an input partition may go without records
	// before it stops holding back its task's event-time watermark (the
	// lowest of the partitions' highest event times), so that an idle
	// partition does not stall windows and timers (5 s).
	IdleTimeout time.Duration
	// SessionTimeout is the consumer group session timeout: how long an
	// instance that stopped without leaving (killed) keeps its tasks
	// before the others take them over (45 s, as Kafka Streams).
	SessionTimeout time.Duration
	// TransactionTimeout is the timeout of the instance's transactions
	// under ExactlyOnce (10 s, as Kafka Streams): how long the open
	// transaction of an instance killed mid-way holds back what
	// read_committed consumers, the other instances included, can read
	// of the partitions it wrote, before the coordinator aborts it.
	TransactionTimeout time.Duration
	// StateDir holds local state (DefaultStateDir when empty): a
	// directory per task, kept across restarts, with the changelog
	// offsets its stores reflect (a checkpoint), so that a task restores
	// only the changelog records written after them. Instances must not
	// share one.
	StateDir string
	// StandbyReplicas is how many other instances keep a warm copy of
	// each stateful task's stores (Kafka Streams' num.standby.replicas;
	// 0, the default: none). A standby reads the task's changelog
	// partitions as they are written (read_committed) into its own state
	// directory; when the task moves to an instance that has its standby,
	// that instance restores only the few records it had not read yet.
	// There are at most as many standbys of a task as other instances.
	StandbyReplicas int
	// StateCleanupDelay is how long the local state of a task that is
	// neither active nor a standby on this instance is kept before its
	// directory is deleted (Kafka Streams' state.cleanup.delay.ms: 10
	// minutes when zero; negative: never). Kept state lets a task that
	// comes back restore only what it missed.
	StateCleanupDelay time.Duration
	// RepartitionPurgeInterval is how often an instance deletes the
	// records of repartition topics it has consumed and committed
	// (DeleteRecords up to the committed offsets, after a commit), as
	// Kafka Streams does (30 s when zero; negative: never).
	RepartitionPurgeInterval time.Duration
	// Compression is the compression of the batches the application
	// produces (output, repartition and changelog records), by Kafka's
	// names for compression.type: "none" (the default, as in Kafka
	// Streams), "gzip", "snappy", "lz4" or "zstd". Compression saves
	// network and disk at the cost of CPU in the application (snappy:
	// about 7% of a stateless query's).
	Compression string
	// OnRestore, when set, is told how the restores of stores from their
	// changelogs progress: at the start, after each batch of records
	// applied and at the end (Done) of each store's restore, whenever a
	// task starts on this instance. It is called on the processing
	// goroutine, which waits for it: it must be quick.
	OnRestore func(RestoreProgress)
	// OnError handles records that cannot be processed (default: stop).
	OnError ErrorPolicy
	// Logger receives the application's logs (slog.Default when nil).
	Logger *slog.Logger
	// Batch, when set, runs the application in batch mode: each input
	// partition is read over a bounded range of offsets, from the
	// group's committed offset (or the start) to the end Batch says,
	// and Run returns nil once this instance's tasks have read their
	// whole ranges and flushed what they held (windows closed, join
	// buffers expired, event-time timers fired). docs/flow.md, "Batch
	// mode", describes it.
	Batch *Batch
	// Registerer receives the application's Prometheus metrics (none
	// when nil): a program that serves metrics passes its registry
	// (prometheus.DefaultRegisterer, or Weir's when embedded beside
	// it). docs/flow.md lists them.
	Registerer prometheus.Registerer
}

// Batch configures batch mode (Config.Batch). A batch run is the time
// during which the application's consumer group has members: the first
// instance to join an empty group starts a run, the instances that join
// it while it has members take part in the same run, and each task ends
// its input partitions where the run first saw them end. The zero Batch
// reads every input partition to its end.
type Batch struct {
	// Until, when not zero, ends each input partition's range before
	// its first record whose timestamp is at or after Until (found with
	// ListOffsets by timestamp), or at its end if it has none. When
	// zero, a range ends at the partition's end (its last stable
	// offset: records of transactions still open are left out) when the
	// run first opens the partition's task.
	Until time.Time
}

// RestoreProgress is where the restore of a task's store stands, as
// Kafka Streams' StateRestoreListener reports it. A store restores the
// records of its changelog partition from StartOffset to EndOffset: all
// of them when the local state is missing or cannot be trusted, only
// those after its checkpoint otherwise.
type RestoreProgress struct {
	// Task names the task: "<sub-topology>_<partition>".
	Task string
	// Store is the store's name.
	Store string
	// Topic and Partition are the changelog partition read.
	Topic     string
	Partition int32
	// StartOffset is the offset the restore starts from: the
	// checkpointed offset, or the changelog's log start offset when the
	// local state was wiped.
	StartOffset int64
	// EndOffset is the changelog's end (high watermark) when the restore
	// started; it ends once it has read up to there.
	EndOffset int64
	// Restored counts the changelog records applied so far (transaction
	// markers and records of aborted transactions are not applied).
	Restored int64
	// Done is set on the last call of the store's restore.
	Done bool
}

// compression returns the producer's compression codecs for a
// Config.Compression.
func compression(name string) ([]kgo.CompressionCodec, error) {
	switch name {
	case "", "none":
		return []kgo.CompressionCodec{kgo.NoCompression()}, nil
	case "gzip":
		return []kgo.CompressionCodec{kgo.GzipCompression()}, nil
	case "snappy":
		return []kgo.CompressionCodec{kgo.SnappyCompression()}, nil
	case "lz4":
		return []kgo.CompressionCodec{kgo.Lz4Compression()}, nil
	case "zstd":
		return []kgo.CompressionCodec{kgo.ZstdCompression()}, nil
	}
	return nil, fmt.Errorf("flow: Config.Compression %q is none of none, gzip, snappy, lz4 and zstd", name)
}
