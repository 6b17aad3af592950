package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// NewProducerCommand returns `weir producer`: the producers the partitions'
// leaders keep state for (DescribeProducers), to find the producer of a
// hanging transaction.
func NewProducerCommand() *cobra.Command {
	conn := &connection{}
	cmd := newParentCommand("producer", "Describe the producers that write to partitions")
	conn.addFlags(cmd)
	cmd.AddCommand(newProducerDescribeCommand(conn))
	return cmd
}

// newProducerDescribeCommand is `weir producer describe`.
func newProducerDescribeCommand(conn *connection) *cobra.Command {
	return &cobra.Command{
		Use:   "describe TOPIC[:P,...]...",
		Short: "Show the idempotent and transactional producers of partitions",
		Long: `Show, for each partition named (all of a topic's, or those listed after a
colon), the producers its leader keeps state for: producer id and epoch, the
last sequence number written and when, the coordinator epoch of the last
transaction marker, and the first offset of the producer's open transaction
in the partition (a transaction that holds back read_committed consumers).`,
		Example: `  weir producer describe orders
  weir producer describe orders:0,1 payments:2
  weir producer describe orders --output json | jq '.[].producers[] | select(.current_txn_start_offset != null)'`,
		Args: minArgs(1, "at least one topic"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			scopes, err := parsePartitionArgs(args)
			if err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			adm, ctx, done, err := conn.adminSession(cmd)
			if err != nil {
				return err
			}
			defer done()
			partitions, errs, err := resolveProducerScope(ctx, adm, scopes)
			if err != nil {
				return err
			}
			rows := []partitionProducers{}
			if len(partitions) > 0 {
				set := make(kadm.TopicsSet)
				for _, tp := range partitions {
					set.Add(tp.topic, tp.partition)
				}
				described, err := adm.DescribeProducers(ctx, set)
				var describeErrs []error
				rows, describeErrs = producerRows(partitions, described, err)
				errs = append(errs, describeErrs...)
			}
			if err := printPartitionProducers(cmd.OutOrStdout(), conn, rows); err != nil {
				return err
			}
			return errors.Join(errs...)
		},
	}
}

// parsePartitionArgs parses the arguments "TOPIC" and "TOPIC:P,P,...", as
// --topic is parsed (parseTopicScopes), with errors that name the argument.
func parsePartitionArgs(args []string) ([]topicScope, error) {
	for _, a := range args {
		if _, err := parseTopicScopes([]string{a}); err != nil {
			return nil, fmt.Errorf("%q: want TOPIC or TOPIC:PARTITION,PARTITION,... with partition numbers", a)
		}
	}
	return parseTopicScopes(args)
}

// resolveProducerScope returns the partitions scopes name, in topic and
// partition order, and an error for each topic or partition that does not
// exist; err is an error of the lookup itself.
func resolveProducerScope(ctx context.Context, adm *kadm.Client, scopes []topicScope) (partitions []topicPartition, errs []error, err error) {
	existing, err := listPartitions(ctx, adm, scopeTopics(scopes))
	if err != nil {
		return nil, nil, err
	}
	set := make(map[topicPartition]bool)
	for _, s := range scopes {
		have, ok := existing[s.topic]
		if !ok {
			errs = append(errs, topicError("describe producers of", s.topic, kerr.UnknownTopicOrPartition, ""))
			continue
		}
		want := s.partitions
		if want == nil {
			want = have
		}
		for _, p := range want {
			if !slices.Contains(have, p) {
				errs = append(errs, fmt.Errorf("topic %s has no partition %d (it has %s)", s.topic, p, plural(len(have), "partition")))
				continue
			}
			set[topicPartition{s.topic, p}] = true
		}
	}
	return sortedPartitions(set), errs, nil
}

// partitionProducers is a partition in `weir producer describe --output
// json`.
type partitionProducers struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Leader is the broker that answered.
	Leader    int32               `json:"leader"`
	Producers []describedProducer `json:"producers"`
}

// describedProducer is one producer of a partition. Unknown values (Kafka's
// -1) are nil.
type describedProducer struct {
	ProducerID    int64 `json:"producer_id"`
	ProducerEpoch int16 `json:"producer_epoch"`
	// LastSequence is the sequence number of the producer's last record
	// in the partition; LastTimestamp when it was written (Unix ms).
	LastSequence  *int32 `json:"last_sequence"`
	LastTimestamp *int64 `json:"last_timestamp"`
	// CoordinatorEpoch is the epoch of the transaction coordinator that
	// wrote the producer's last marker in the partition.
	CoordinatorEpoch *int32 `json:"coordinator_epoch"`
	// CurrentTxnStartOffset is the first offset of the producer's open
	// transaction in the partition.
	CurrentTxnStartOffset *int64 `json:"current_txn_start_offset"`
}

// producerRows returns the partitions described, in the order of
// partitions, each with its producers by producer id, and an error for
// each partition that could not be described. err is what
// DescribeProducers returned with described.
func producerRows(partitions []topicPartition, described kadm.DescribedProducersTopics, err error) ([]partitionProducers, []error) {
	rows := []partitionProducers{}
	var errs []error
	for _, tp := range partitions {
		p, ok := described[tp.topic].Partitions[tp.partition]
		switch {
		case !ok && err != nil:
			errs = append(errs, partitionError("describe producers of", tp.topic, tp.partition, err))
		case !ok:
			errs = append(errs, partitionError("describe producers of", tp.topic, tp.partition, errors.New("no answer")))
		case p.Err != nil:
			errs = append(errs, partitionError("describe producers of", tp.topic, tp.partition, p.Err))
		default:
			row := partitionProducers{Topic: tp.topic, Partition: tp.partition, Leader: p.Leader, Producers: []describedProducer{}}
			for _, d := range p.ActiveProducers.Sorted() {
				row.Producers = append(row.Producers, fromDescribedProducer(d))
			}
			rows = append(rows, row)
		}
	}
	return rows, errs
}

func fromDescribedProducer(d kadm.DescribedProducer) describedProducer {
	return describedProducer{
		ProducerID: d.ProducerID, ProducerEpoch: d.ProducerEpoch,
		LastSequence: known(d.LastSequence), LastTimestamp: known(d.LastTimestamp),
		CoordinatorEpoch: known(d.CoordinatorEpoch), CurrentTxnStartOffset: known(d.CurrentTxnStartOffset),
	}
}

// known is &n, or nil for a negative n: Kafka's -1, none.
func known[N int32 | int64](n N) *N {
	if n < 0 {
		return nil
	}
	return &n
}

// printPartitionProducers writes one row per producer of each partition,
// and a row of "-" for a partition without producers; nothing, not even
// the header, when no partition could be described.
func printPartitionProducers(w io.Writer, conn *connection, rows []partitionProducers) error {
	if conn.json() {
		return writeJSON(w, rows)
	}
	if len(rows) == 0 {
		return nil
	}
	tab := newTable(w, "TOPIC", "PARTITION", "PRODUCER-ID", "EPOCH", "LAST-SEQUENCE", "LAST-TIMESTAMP", "COORDINATOR-EPOCH", "TXN-START-OFFSET")
	for _, r := range rows {
		if len(r.Producers) == 0 {
			tab.row(r.Topic, r.Partition, "-", "-", "-", "-", "-", "-")
		}
		for _, p := range r.Producers {
			timestamp := "-"
			if p.LastTimestamp != nil {
				timestamp = formatMillisTime(*p.LastTimestamp)
			}
			tab.row(r.Topic, r.Partition, p.ProducerID, p.ProducerEpoch, orDashPtr(p.LastSequence),
				timestamp, orDashPtr(p.CoordinatorEpoch), orDashPtr(p.CurrentTxnStartOffset))
		}
	}
	return tab.flush()
}

// orDashPtr is *n, or "-" when nil, for table cells.
func orDashPtr[N int32 | int64](n *N) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}
