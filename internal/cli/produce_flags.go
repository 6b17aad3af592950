package cli

import (
	"os"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// produceFlags are `weir produce`'s own flags, as given.
type produceFlags struct {
	file         string
	keySeparator string
	headers      []string
	partition    int32
	acks         string
	compression  string
	progress     bool
}

func (f *produceFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&f.file, "file", "f", "", "read lines from this file instead of stdin")
	fs.StringVarP(&f.keySeparator, "key-separator", "K", "", "split each line at the first occurrence of this string into key and value (default: no key, the line is the value)")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, "add a header name=value to every record; repeat for several")
	fs.Int32VarP(&f.partition, "partition", "p", -1, "write every record to this partition; -1: by key hash, spread when there is no key")
	fs.StringVar(&f.acks, "acks", "all", "acknowledgement to wait for: all, 1 (the leader only) or 0 (none)")
	fs.StringVarP(&f.compression, "compression", "z", "none", "batch compression: none, gzip, snappy, lz4 or zstd")
	fs.BoolVar(&f.progress, "progress", false, "show a progress bar on stderr even when stderr is not a terminal")
}

// produceSettings are the checked flags.
type produceSettings struct {
	file         string
	keySeparator []byte
	headers      []kgo.RecordHeader
	partition    int32
	acks         kgo.Acks
	idempotent   bool
	compression  kgo.CompressionCodec
	progress     bool
}

var (
	acksByName = map[string]kgo.Acks{"all": kgo.AllISRAcks(), "-1": kgo.AllISRAcks(), "1": kgo.LeaderAck(), "0": kgo.NoAck()}

	codecsByName = map[string]kgo.CompressionCodec{
		"none":   kgo.NoCompression(),
		"gzip":   kgo.GzipCompression(),
		"snappy": kgo.SnappyCompression(),
		"lz4":    kgo.Lz4Compression(),
		"zstd":   kgo.ZstdCompression(),
	}
)

// settings checks the flags; a bad value is a usage error.
func (f *produceFlags) settings(cmd *cobra.Command) (produceSettings, error) {
	s := produceSettings{file: f.file, partition: f.partition, progress: f.progress}
	if cmd.Flags().Changed("key-separator") {
		if f.keySeparator == "" {
			return s, usageErrorf(cmd, "--key-separator: want a non-empty string")
		}
		s.keySeparator = []byte(f.keySeparator)
	}
	pairs, err := parseKeyValues("header", f.headers)
	if err != nil {
		return s, usageErrorf(cmd, "%v", err)
	}
	for _, kv := range pairs {
		s.headers = append(s.headers, kgo.RecordHeader{Key: kv.key, Value: []byte(kv.value)})
	}
	if f.partition < -1 {
		return s, usageErrorf(cmd, "--partition %d: want a partition number", f.partition)
	}
	acks, ok := acksByName[f.acks]
	if !ok {
		return s, usageErrorf(cmd, "--acks %q: want all, 1 or 0", f.acks)
	}
	// Idempotence needs acks from all in-sync replicas.
	s.acks, s.idempotent = acks, f.acks == "all" || f.acks == "-1"
	if s.compression, ok = codecsByName[f.compression]; !ok {
		return s, usageErrorf(cmd, "--compression %q: want none, gzip, snappy, lz4 or zstd", f.compression)
	}
	return s, nil
}

// showProgress decides on the progress bar: only when reading a file
// (--file, or stdin redirected from one), and only when stderr is a
// terminal or --progress asks for it.
func (s produceSettings) showProgress(cmd *cobra.Command) bool {
	if s.file == "" && regularFileSize(cmd.InOrStdin()) < 0 && !s.progress {
		return false
	}
	if s.progress {
		return true
	}
	f, ok := cmd.ErrOrStderr().(*os.File)
	return ok && isTerminal(f)
}
