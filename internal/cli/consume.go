package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// NewConsumeCommand returns `weir consume`: read a topic's records and
// print them.
func NewConsumeCommand() *cobra.Command {
	conn := &connection{}
	var flags consumeFlags
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Print a topic's records",
		Long: `Read records from a topic's partitions (all of them, or --partition) and
print them, without a consumer group: no offsets are committed.

Without --follow, it stops at the end offsets the partitions had when it
started; with it, it waits for new records until interrupted (Ctrl-C, exit
code 0). --count stops after that many records in all.

Each record is printed as its value on a line, or as --format says, or with
--output json as one JSON object per line: topic, partition, offset,
timestamp (Unix ms), key, value and headers; bytes that are not valid UTF-8
are written in base64 with "key_encoding"/"value_encoding": "base64" beside
them.

--format placeholders: %k key, %v value, %h headers (name=value,...),
%o offset, %p partition, %t timestamp (Unix ms), %T topic, %% a percent sign;
escapes \n, \t, \r and \\.`,
		Example: `  weir consume orders --from earliest
  weir consume orders --from -10 --format '%p/%o %k=%v\n'
  weir consume orders --from 2024-05-01T00:00:00Z --count 100 --output json
  weir consume orders --from latest --follow`,
		Args: exactArgs(1, "one topic name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := conn.check(cmd); err != nil {
				return err
			}
			settings, err := flags.settings(cmd, conn)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return consume(ctx, cmd, conn, args[0], settings)
		},
	}
	conn.addFlags(cmd)
	flags.add(cmd)
	return cmd
}

// consumeFlags are `weir consume`'s own flags, as given.
type consumeFlags struct {
	from      string
	partition int32
	count     int64
	follow    bool
	format    string
}

func (f *consumeFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.from, "from", "earliest", "where to start in each partition: earliest, latest, an offset, -N (the last N records), @UNIX-MS or an RFC 3339 time")
	fs.Int32VarP(&f.partition, "partition", "p", -1, "read only this partition; -1: all of them")
	fs.Int64VarP(&f.count, "count", "c", 0, "stop after this many records; 0: no limit")
	fs.BoolVarP(&f.follow, "follow", "F", false, "keep waiting for new records instead of stopping at the end")
	fs.StringVar(&f.format, "format", "", `print each record in this format, e.g. '%k=%v\n' (see above)`)
}

// consumeSettings are the checked flags.
type consumeSettings struct {
	from      startPosition
	partition int32
	count     int64
	follow    bool
	write     recordWriter
}

func (f *consumeFlags) settings(cmd *cobra.Command, conn *connection) (consumeSettings, error) {
	s := consumeSettings{partition: f.partition, count: f.count, follow: f.follow}
	var err error
	if s.from, err = parseFrom(f.from); err != nil {
		return s, usageErrorf(cmd, "%v", err)
	}
	if f.partition < -1 {
		return s, usageErrorf(cmd, "--partition %d: want a partition number", f.partition)
	}
	if f.count < 0 {
		return s, usageErrorf(cmd, "--count %d: want a positive count", f.count)
	}
	switch {
	case conn.json() && f.format != "":
		return s, usageErrorf(cmd, "--format and --output json exclude each other")
	case conn.json():
		s.write = writeJSONRecord
	default:
		format := f.format
		if format == "" {
			format = defaultFormat
		}
		compiled, err := compileFormat(format)
		if err != nil {
			return s, usageErrorf(cmd, "%v", err)
		}
		s.write = func(w *bufio.Writer, r *kgo.Record) error {
			_, err := w.Write(compiled.appendRecord(nil, r))
			return err
		}
	}
	return s, nil
}

// recordWriter prints one record.
type recordWriter func(*bufio.Writer, *kgo.Record) error

func writeJSONRecord(w *bufio.Writer, r *kgo.Record) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(newJSONRecord(r))
}

func consume(ctx context.Context, cmd *cobra.Command, conn *connection, topic string, s consumeSettings) error {
	starts, ends, err := startOffsets(ctx, cmd, conn, topic, s)
	if err != nil || len(starts) == 0 {
		return err
	}
	cl, err := conn.newClient(cmd,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return err
	}
	defer cl.Close()
	out := bufio.NewWriter(cmd.OutOrStdout())
	err = newConsumeState(topic, s, ends).run(ctx, cl, out)
	if flushErr := out.Flush(); err == nil {
		err = flushErr
	}
	return err
}
