package compat

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// logEntry is an offset of a partition as franz-go reads it, control
// records included: a record, or a transaction marker, with what the batch
// it came in says of its producer.
type logEntry struct {
	record
	// marker is "commit" or "abort" for a marker, "" for a record.
	marker        string
	producerID    int64
	producerEpoch int16
	transactional bool
}

func (x logEntry) isMarker() bool { return x.marker != "" }

// markerTypes are the types of a control record's key (version, type):
// Kafka's ControlRecordType.
var markerTypes = map[int16]string{0: "abort", 1: "commit"}

// dataEntries are records as a transactional producer's batches hold them
// (their epochs are checkEpochs's to check).
func dataEntries(records []record, producerID int64) []logEntry {
	out := make([]logEntry, len(records))
	for i, r := range records {
		out[i] = logEntry{record: r, producerID: producerID, transactional: true}
	}
	return out
}

// checkEpochs checks the producer epochs in each partition of a
// transactional producer's log: the records of a transaction share an
// epoch, at least the previous marker's; its marker has that epoch
// (transactions version 1) or the next (version 2, where every EndTxn
// bumps the epoch, or an abort that fenced the producer); and the last
// marker has the epoch DescribeTransactions gives, final.
func checkEpochs(log []logEntry, final int16) error {
	type state struct{ data, marker int16 }
	partitions := map[int32]*state{}
	for _, x := range log {
		s := partitions[x.Partition]
		if s == nil {
			s = &state{data: -1, marker: -1}
			partitions[x.Partition] = s
		}
		e := x.producerEpoch
		switch {
		case x.isMarker() && s.data >= 0 && e != s.data && e != s.data+1:
			return fmt.Errorf("partition %d offset %d: a marker at epoch %d after records at epoch %d, want %d or %d", x.Partition, x.Offset, e, s.data, s.data, s.data+1)
		case x.isMarker():
			s.data, s.marker = -1, e
		case s.data >= 0 && e != s.data:
			return fmt.Errorf("partition %d offset %d: a record at epoch %d in a transaction at epoch %d", x.Partition, x.Offset, e, s.data)
		case e < s.marker:
			return fmt.Errorf("partition %d offset %d: a record at epoch %d after a marker at epoch %d", x.Partition, x.Offset, e, s.marker)
		default:
			s.data = e
		}
	}
	for p, s := range partitions {
		if s.marker != final {
			return fmt.Errorf("partition %d: the last marker at epoch %d, want %d (DescribeTransactions)", p, s.marker, final)
		}
	}
	return nil
}

// markerEntry is a transaction marker of a producer ("commit" or "abort").
func markerEntry(partition int32, offset int64, marker string, producerID int64) logEntry {
	return logEntry{record: record{Partition: partition, Offset: offset}, marker: marker, producerID: producerID, transactional: true}
}

// recordsOf returns the records of a log, without its markers.
func recordsOf(log []logEntry) []record {
	var out []record
	for _, x := range log {
		if !x.isMarker() {
			out = append(out, x.record)
		}
	}
	return out
}

// readLog reads every partition of a topic (or those named) with
// franz-go, from the log start to the end offset (which must be stable: no
// transaction open), with read_committed or read_uncommitted, control
// records included, and returns what it read in partition and offset
// order.
func (e *env) readLog(ctx context.Context, topic string, committed bool, only ...int32) ([]logEntry, error) {
	ends, err := e.admin.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("franz-go: list end offsets: %w", err)
	}
	partitions := make(map[int32]kgo.Offset)
	remaining := make(map[int32]int64) // the end offsets not reached yet
	ends.Each(func(o kadm.ListedOffset) {
		if len(only) > 0 && !slices.Contains(only, o.Partition) {
			return
		}
		partitions[o.Partition] = kgo.NewOffset().AtStart()
		if o.Offset > 0 {
			remaining[o.Partition] = o.Offset
		}
	})
	opts := []kgo.Opt{
		kgo.SeedBrokers(e.addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: partitions}),
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
		kgo.KeepControlRecords(),
	}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var log []logEntry
	for len(remaining) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			return nil, fmt.Errorf("franz-go: read %s (%s) up to the end offsets, partitions %v not reached: %w", topic, isolation(committed), remaining, err)
		}
		var bad error
		fetches.EachRecord(func(r *kgo.Record) {
			x, err := entryOf(r)
			if err != nil && bad == nil {
				bad = err
			}
			log = append(log, x)
			if end, ok := remaining[r.Partition]; ok && r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
		})
		if bad != nil {
			return nil, bad
		}
	}
	sort.SliceStable(log, func(i, j int) bool {
		a, b := log[i], log[j]
		return a.Partition < b.Partition || a.Partition == b.Partition && a.Offset < b.Offset
	})
	return log, nil
}

// entryOf converts a record franz-go read.
func entryOf(r *kgo.Record) (logEntry, error) {
	x := logEntry{record: fromKgo(r), producerID: r.ProducerID, producerEpoch: r.ProducerEpoch, transactional: r.Attrs.IsTransactional()}
	if !r.Attrs.IsControl() {
		return x, nil
	}
	x.record = record{Partition: r.Partition, Offset: r.Offset}
	if len(r.Key) < 4 {
		return x, fmt.Errorf("partition %d offset %d: a control record with key %x", r.Partition, r.Offset, r.Key)
	}
	typ := int16(binary.BigEndian.Uint16(r.Key[2:]))
	if x.marker = markerTypes[typ]; x.marker == "" {
		return x, fmt.Errorf("partition %d offset %d: a control record of type %d, not a transaction marker", r.Partition, r.Offset, typ)
	}
	return x, nil
}

// diffLog compares two logs in order: records byte for byte (diffRecord)
// and in batches of the same producer id and epoch, markers by type and
// producer id (the epoch of an abort marker written when a producer is
// fenced is the coordinator's choice). It returns "" when they are equal,
// else the first difference.
func diffLog(got, want []logEntry) string {
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		where := fmt.Sprintf("entry %d (partition %d, offset %d)", i, w.Partition, w.Offset)
		switch {
		case g.isMarker() && i > 0 && got[i-1].isMarker() && got[i-1].producerID == g.producerID:
			return fmt.Sprintf("%s: %s, want %s: a second marker of the transaction (the broker's TestTxnMarkersOnce)", where, g.describe(), w.describe())
		case g.isMarker() != w.isMarker() || g.marker != w.marker:
			return fmt.Sprintf("%s: %s, want %s", where, g.describe(), w.describe())
		case g.Partition != w.Partition || g.Offset != w.Offset:
			return fmt.Sprintf("%s: at partition %d offset %d", where, g.Partition, g.Offset)
		case g.transactional != w.transactional || g.producerID != w.producerID:
			return fmt.Sprintf("%s: in a batch of producer id %d (transactional %v), want %d (transactional %v)", where, g.producerID, g.transactional, w.producerID, w.transactional)
		}
		if !w.isMarker() {
			if d := diffRecord(g.record, w.record); d != "" {
				return fmt.Sprintf("%s: %s", where, d)
			}
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%s, want %s", showLog(got), showLog(want))
	}
	return ""
}

// describe is what an entry is, in a word or two.
func (x logEntry) describe() string {
	if x.isMarker() {
		return x.marker + " marker"
	}
	return "a record"
}

// showLog lists the entries of a log by partition and offset.
func showLog(log []logEntry) string {
	parts := make([]string, len(log))
	for i, x := range log {
		parts[i] = fmt.Sprintf("%d/%d %s", x.Partition, x.Offset, x.describe())
	}
	return fmt.Sprintf("%d entries [%s]", len(log), strings.Join(parts, ", "))
}
