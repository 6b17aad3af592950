package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// NewProduceCommand returns `weir produce`: one record per line of stdin or
// of a file.
func NewProduceCommand() *cobra.Command {
	conn := &connection{}
	var flags produceFlags
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Write lines from stdin or a file to a topic, one record per line",
		Long: `Write one record per line read from stdin (or --file). The newline ending a
line is not part of the record; an empty line is a record with an empty
value. Without --key-separator the whole line is the value and the record
has no key; with it, the line is split at the first separator into key and
value (a line without the separator has no key).

The topic is created if it does not exist and the broker creates topics on
first use (auto.create.topics.enable). At the end, the number of records and
bytes (keys and values) written is printed.`,
		Example: `  printf 'k1:hello\nk2:world\n' | weir produce orders --key-separator :
  weir produce orders --file events.txt --compression zstd --header source=import`,
		Args: exactArgs(1, "one topic name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			settings, err := flags.settings(cmd)
			if err != nil {
				return err
			}
			return produce(cmd, conn, args[0], settings)
		},
	}
	conn.addFlags(cmd)
	flags.add(cmd)
	return cmd
}

// produceSummary is what `weir produce` prints at the end.
type produceSummary struct {
	Topic   string `json:"topic"`
	Records int64  `json:"records"`
	Bytes   int64  `json:"bytes"`
}

func produce(cmd *cobra.Command, conn *connection, topic string, s produceSettings) error {
	in, size, err := openInput(cmd, s.file)
	if err != nil {
		return err
	}
	defer in.Close()
	ctx := cmd.Context()
	cl, err := conn.client(ctx, cmd, s.clientOptions(conn)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := checkProduceTarget(ctx, conn, kadm.NewClient(cl), topic, s.partition); err != nil {
		return err
	}
	var bar *progress
	if s.showProgress(cmd) {
		bar = startProgress(cmd.ErrOrStderr(), size)
	}
	p := newLineProducer(cl, topic, s)
	err = p.run(ctx, countReads(in, bar))
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		return err
	}
	summary := produceSummary{topic, p.records.Load(), p.bytes.Load()}
	if conn.json() {
		return writeJSON(cmd.OutOrStdout(), summary)
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "produced %s (%s) to topic %s\n", plural(int(summary.Records), "record"), plural(int(summary.Bytes), "byte"), topic)
	return err
}

// openInput opens --file, or stdin when it is empty, and returns its size
// when it is a regular file (-1 otherwise).
func openInput(cmd *cobra.Command, file string) (io.ReadCloser, int64, error) {
	if file == "" {
		in := cmd.InOrStdin()
		return io.NopCloser(in), regularFileSize(in), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, err
	}
	return f, regularFileSize(f), nil
}

// regularFileSize is the size of r if it is a regular file, else -1.
func regularFileSize(r io.Reader) int64 {
	f, ok := r.(*os.File)
	if !ok {
		return -1
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return -1
	}
	return info.Size()
}

// checkProduceTarget checks that the topic exists (the metadata request
// creates it if the broker auto-creates topics) and has the partition asked
// for.
func checkProduceTarget(ctx context.Context, conn *connection, adm *kadm.Client, topic string, partition int32) error {
	ctx, cancel := conn.withTimeout(ctx)
	defer cancel()
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("look up topic %s: %w", topic, err)
	}
	d, ok := details[topic]
	if !ok {
		return topicError("produce to", topic, errTopicMissing, "")
	}
	if d.Err != nil {
		return topicError("produce to", topic, d.Err, "")
	}
	if partition >= int32(len(d.Partitions)) {
		return fmt.Errorf("topic %s has no partition %d (it has %s)", topic, partition, plural(len(d.Partitions), "partition"))
	}
	return nil
}

// clientOptions are the kgo options the settings ask for.
func (s produceSettings) clientOptions(conn *connection) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.AllowAutoTopicCreation(),
		kgo.RequiredAcks(s.acks),
		kgo.ProducerBatchCompression(s.compression),
		kgo.RecordDeliveryTimeout(conn.timeout),
	}
	if !s.idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if s.partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	return opts
}
