package storage

// A property test: random sequences of operations run against the engine
// and against a simple in-memory model of Kafka's log semantics, and every
// answer of the engine is checked against the model.
//
// The model keeps, per partition, the batches (with all their records, also
// those below the log start in a batch DeleteRecords cut) and the exact
// bytes the engine should serve for each. Compaction is checked by rules
// (Kafka allows a cleaner to keep more than the minimum): after a cleaner
// pass every record served was appended at that offset, every key's latest
// record is still there unless it is an expired tombstone, superseded
// records are gone except in the last batch, offsets and batch boundaries
// are unchanged, and the last batch is untouched. The model then takes the
// engine's batches as its own.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage/commitlog"
)

type modelRecord struct {
	offset int64
	key    []byte // nil: no key
	value  []byte // nil: a tombstone
	ts     int64
}

func (r modelRecord) String() string {
	return fmt.Sprintf("%d:%s=%.12q@%d", r.offset, r.key, r.value, r.ts)
}

func sameRecord(a, b modelRecord) bool {
	return a.offset == b.offset && bytes.Equal(a.key, b.key) && (a.key == nil) == (b.key == nil) &&
		bytes.Equal(a.value, b.value) && (a.value == nil) == (b.value == nil) && a.ts == b.ts
}

type modelBatch struct {
	base, last int64
	records    []modelRecord
	raw        []byte // the bytes the engine serves
	maxTs      int64  // the header's max timestamp
	appendTime int64
}

type modelPartition struct {
	logStart, logEnd int64
	batches          []*modelBatch
}

func (m *modelPartition) size() int64 {
	var n int64
	for _, b := range m.batches {
		n += int64(len(b.raw))
	}
	return n
}

// from returns the index of the first batch whose last offset is at least
// offset (len(batches) if none).
func (m *modelPartition) from(offset int64) int {
	for i, b := range m.batches {
		if b.last >= offset {
			return i
		}
	}
	return len(m.batches)
}

// visible returns the records at or after the log start, in offset order.
func (m *modelPartition) visible() []modelRecord {
	var out []modelRecord
	for _, b := range m.batches {
		for _, r := range b.records {
			if r.offset >= m.logStart {
				out = append(out, r)
			}
		}
	}
	return out
}

// dropBelow removes the batches wholly below the log start.
func (m *modelPartition) dropBelow() {
	m.batches = slices.DeleteFunc(m.batches, func(b *modelBatch) bool { return b.last < m.logStart })
}

type modelTopic struct {
	config     TopicConfig
	partitions []*modelPartition
}

// modelRun is one run of the property test.
type modelRun struct {
	t      *testing.T
	rng    *rand.Rand
	clock  *fakeClock
	opts   Options
	e      *Engine
	topics map[string]*modelTopic
	step   int
	// maxTsHeader counts MaxTimestamp answers that took the batch header's
	// maximum although the record carrying it is gone (see
	// TestMaxTimestampAfterRecordRemoved).
	maxTsHeader int
}

var modelKeys = [][]byte{[]byte("k0"), []byte("k1"), []byte("k2"), []byte("k3"), []byte("k4"), []byte("k5"), []byte("k6"), []byte("k7")}

var modelCodecs = []recordbatch.Codec{recordbatch.None, recordbatch.Gzip, recordbatch.Snappy, recordbatch.LZ4, recordbatch.Zstd}

func TestModel(t *testing.T) {
	seeds := []uint64{1, 2, 3, 42, 20240601}
	random := uint64(time.Now().UnixNano())
	seeds = append(seeds, random)
	steps := 800
	if s := os.Getenv("WEIR_MODEL_STEPS"); s != "" { // longer runs
		steps, _ = strconv.Atoi(s)
	}
	if testing.Short() {
		steps = 200
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Logf("seed %d (rerun with this seed in the table to reproduce)", seed)
			runModel(t, seed, steps)
		})
	}
}

// skipped reports whether WEIR_MODEL_SKIP (a comma-separated list:
// offsetfortime, restart) turns off an operation, to explore past a known
// bug while it is being fixed.
func skipped(op string) bool {
	return slices.Contains(strings.Split(os.Getenv("WEIR_MODEL_SKIP"), ","), op)
}

func runModel(t *testing.T, seed uint64, steps int) {
	m := &modelRun{
		t:      t,
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		clock:  &fakeClock{now: time.UnixMilli(1_700_000_000_000)},
		topics: make(map[string]*modelTopic),
	}
	m.opts = testOptions(t.TempDir())
	m.opts.SegmentSize = 64 << 10
	m.opts.Now = m.clock.Now
	m.opts.Durability.Mode = []commitlog.Mode{commitlog.Durable, commitlog.None}[m.rng.IntN(2)]
	m.e = openTest(t, m.opts)
	defer func() { m.e.Close() }()
	type op struct {
		weight int
		name   string
		run    func()
	}
	ops := []op{
		{3, "create topic", m.createTopic},
		{1, "delete topic", m.deleteTopic},
		{1, "set config", m.setConfig},
		{40, "append", m.append},
		{15, "read", m.read},
		{6, "offset for time", m.offsetForTime},
		{4, "max timestamp", m.maxTimestamp},
		{3, "delete records", m.deleteRecords},
		{6, "advance clock", m.advanceClock},
		{5, "cleaner", m.cleaner},
		{2, "restart", m.restart},
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	m.createTopic()
	for m.step = 0; m.step < steps; m.step++ {
		n := m.rng.IntN(total)
		for _, o := range ops {
			if n < o.weight {
				o.run()
				break
			}
			n -= o.weight
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	m.cleaner()
	m.restart()
	if m.maxTsHeader > 0 {
		t.Logf("%d MaxTimestamp answers came from a batch header whose record is gone", m.maxTsHeader)
	}
}

func (m *modelRun) fatalf(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("step %d: "+format, append([]any{m.step}, args...)...)
}

func (m *modelRun) now() int64 { return m.clock.now.UnixMilli() }

func (m *modelRun) randomConfig() TopicConfig {
	c := DefaultTopicConfig()
	c.CleanupPolicy = []string{CleanupDelete, CleanupCompact, CleanupCompactDelete}[m.rng.IntN(3)]
	c.RetentionMs = []int64{-1, 60_000, 600_000, 3_600_000}[m.rng.IntN(4)]
	c.RetentionBytes = []int64{-1, -1, 20_000, 100_000}[m.rng.IntN(4)]
	c.DeleteRetentionMs = []int64{0, 60_000, 600_000}[m.rng.IntN(3)]
	c.MinCleanableDirtyRatio = 0
	c.LogAppendTime = m.rng.IntN(8) == 0
	return c
}

// pick returns a random partition of a random topic, or false.
func (m *modelRun) pick() (string, int32, *modelPartition, bool) {
	names := m.topicNames()
	if len(names) == 0 {
		return "", 0, nil, false
	}
	name := names[m.rng.IntN(len(names))]
	t := m.topics[name]
	i := m.rng.IntN(len(t.partitions))
	return name, int32(i), t.partitions[i], true
}

func (m *modelRun) topicNames() []string {
	var names []string
	for n := range m.topics {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (m *modelRun) partition(name string, i int32) *Partition {
	m.t.Helper()
	p, err := m.e.Partition(name, i)
	if err != nil {
		m.fatalf("partition %s/%d: %v", name, i, err)
	}
	return p
}

func (m *modelRun) createTopic() {
	if len(m.topics) >= 3 {
		return
	}
	var name string
	for {
		name = fmt.Sprintf("t%d", m.rng.IntN(5))
		if m.topics[name] == nil {
			break
		}
	}
	n := 1 + m.rng.IntN(2)
	config := m.randomConfig()
	info, err := m.e.CreateTopic(name, int32(n), config)
	if err != nil {
		m.fatalf("create topic %s: %v", name, err)
	}
	if info.Partitions != int32(n) || !reflect.DeepEqual(info.Config, config) {
		m.fatalf("create topic %s: %+v", name, info)
	}
	if _, err := m.e.CreateTopic(name, 1, config); !errors.Is(err, ErrTopicExists) {
		m.fatalf("create existing topic %s: %v", name, err)
	}
	t := &modelTopic{config: config}
	for range n {
		t.partitions = append(t.partitions, &modelPartition{})
	}
	m.topics[name] = t
}

func (m *modelRun) deleteTopic() {
	name, _, _, ok := m.pick()
	if !ok {
		return
	}
	p := m.partition(name, 0)
	if err := m.e.DeleteTopic(name); err != nil {
		m.fatalf("delete topic %s: %v", name, err)
	}
	delete(m.topics, name)
	if _, err := p.Read(0, 100); !errors.Is(err, ErrUnknownTopicOrPartition) {
		m.fatalf("read of deleted topic %s: %v", name, err)
	}
	if _, err := p.Append(makeBatch(m.t, recordbatch.None, rec{key: []byte("k"), value: []byte("v"), ts: 1})); !errors.Is(err, ErrUnknownTopicOrPartition) {
		m.fatalf("append to deleted topic %s: %v", name, err)
	}
	if _, err := m.e.Partition(name, 0); !errors.Is(err, ErrUnknownTopicOrPartition) {
		m.fatalf("deleted topic %s still there: %v", name, err)
	}
}

func (m *modelRun) setConfig() {
	name, _, _, ok := m.pick()
	if !ok {
		return
	}
	config := m.randomConfig()
	if err := m.e.SetTopicConfig(name, config); err != nil {
		m.fatalf("set config of %s: %v", name, err)
	}
	m.topics[name].config = config
}

func (m *modelRun) randomValue() []byte {
	if m.rng.IntN(10) == 0 {
		return nil // a tombstone
	}
	n := m.rng.IntN(1500)
	v := make([]byte, n)
	for i := range v {
		if m.rng.IntN(4) == 0 {
			v[i] = byte(m.rng.IntN(256))
		} else {
			v[i] = 'a' + byte(i%7)
		}
	}
	return v
}

func (m *modelRun) append() {
	name, index, mp, ok := m.pick()
	if !ok {
		return
	}
	config := m.topics[name].config
	n := 1 + m.rng.IntN(12)
	if m.rng.IntN(4) == 0 {
		n = 1
	}
	ts := m.now() - int64(m.rng.IntN(2000))
	if m.rng.IntN(5) == 0 {
		ts = m.now() - int64(m.rng.IntN(3_600_000)) // out of order
	}
	var records []rec
	for range n {
		var key []byte
		if m.rng.IntN(20) != 0 {
			key = modelKeys[m.rng.IntN(len(modelKeys))]
		}
		records = append(records, rec{key: key, value: m.randomValue(), ts: ts})
		switch m.rng.IntN(10) {
		case 0:
			ts -= int64(m.rng.IntN(5000)) // out of order inside the batch
		case 1, 2, 3:
		default:
			ts += int64(m.rng.IntN(3))
		}
	}
	codec := modelCodecs[m.rng.IntN(len(modelCodecs))]
	batch := makeBatch(m.t, codec, records...)
	p := m.partition(name, index)
	var r AppendResult
	var err error
	if m.rng.IntN(4) == 0 {
		r, err = p.AppendDurable(context.Background(), batch)
	} else {
		r, err = p.Append(batch)
	}
	if err != nil {
		m.fatalf("append to %s/%d: %v", name, index, err)
	}
	if r.BaseOffset != mp.logEnd || r.LastOffset != mp.logEnd+int64(n-1) || r.LogStart != mp.logStart {
		m.fatalf("append to %s/%d: result %+v, want base %d, last %d, log start %d", name, index, r, mp.logEnd, mp.logEnd+int64(n-1), mp.logStart)
	}
	if config.LogAppendTime && r.LogAppendTime != m.now() || !config.LogAppendTime && r.LogAppendTime != -1 {
		m.fatalf("append: log append time %d", r.LogAppendTime)
	}
	b := &modelBatch{base: r.BaseOffset, last: r.LastOffset, raw: batch, appendTime: m.now()}
	b.maxTs = math.MinInt64
	for i, rc := range records {
		if config.LogAppendTime {
			rc.ts = m.now()
		}
		b.records = append(b.records, modelRecord{offset: r.BaseOffset + int64(i), key: rc.key, value: rc.value, ts: rc.ts})
		b.maxTs = max(b.maxTs, rc.ts)
	}
	mp.batches = append(mp.batches, b)
	mp.logEnd = r.LastOffset + 1
}

// decodeBatches splits and decodes what a read returned.
func (m *modelRun) decodeBatches(records []byte) ([][]byte, []recordbatch.Header, [][]modelRecord) {
	m.t.Helper()
	raws, err := recordbatch.Split(records)
	if err != nil {
		m.fatalf("split read result: %v", err)
	}
	var headers []recordbatch.Header
	var decoded [][]modelRecord
	for _, raw := range raws {
		if _, err := recordbatch.Validate(raw); err != nil {
			m.fatalf("read returned an invalid batch: %v", err)
		}
		h, krs, err := recordbatch.Records(raw, 1<<30)
		if err != nil {
			m.fatalf("read returned undecodable records: %v", err)
		}
		headers = append(headers, h)
		decoded = append(decoded, modelRecords(h, krs))
	}
	return raws, headers, decoded
}

func modelRecords(h recordbatch.Header, krs []kmsg.Record) []modelRecord {
	var out []modelRecord
	for i := range krs {
		r := &krs[i]
		out = append(out, modelRecord{offset: h.OffsetOf(r), key: r.Key, value: r.Value, ts: h.TimestampOf(r)})
	}
	return out
}

// syncLog makes everything appended durable, so that the high watermark
// covers it: under the durable policy, consumers see only what is synced.
func (m *modelRun) syncLog() {
	if err := m.e.log.Sync(context.Background()); err != nil {
		m.fatalf("sync: %v", err)
	}
}

func (m *modelRun) read() {
	name, index, mp, ok := m.pick()
	if !ok {
		return
	}
	p := m.partition(name, index)
	if off := p.Offsets(); off.HighWatermark > mp.logEnd || off.HighWatermark < mp.logStart {
		m.fatalf("%s/%d before a sync: high watermark %d outside %d..%d", name, index, off.HighWatermark, mp.logStart, mp.logEnd)
	}
	m.syncLog()
	span := mp.logEnd - mp.logStart
	offset := mp.logStart + m.rng.Int64N(span+1)
	if m.rng.IntN(10) == 0 {
		offset = []int64{mp.logStart - 1, mp.logEnd + 1, -1}[m.rng.IntN(3)]
	}
	maxBytes := 1 + m.rng.IntN(64<<10)
	r, err := p.Read(offset, maxBytes)
	if offset < mp.logStart || offset > mp.logEnd {
		if !errors.Is(err, ErrOffsetOutOfRange) {
			m.fatalf("read %s/%d at %d (log %d..%d): %v, want offset out of range", name, index, offset, mp.logStart, mp.logEnd, err)
		}
		return
	}
	if err != nil {
		m.fatalf("read %s/%d at %d: %v", name, index, offset, err)
	}
	if r.LogStart != mp.logStart || r.HighWatermark != mp.logEnd || r.LastStable != mp.logEnd {
		m.fatalf("read %s/%d: offsets %d/%d/%d, want %d/%d", name, index, r.LogStart, r.HighWatermark, r.LastStable, mp.logStart, mp.logEnd)
	}
	// The expected batches: the one holding offset (or the first after
	// it), then as many as fit in maxBytes.
	var want []*modelBatch
	total := 0
	for i := mp.from(offset); i < len(mp.batches) && offset < mp.logEnd; i++ {
		b := mp.batches[i]
		if len(want) > 0 && total+len(b.raw) > maxBytes {
			break
		}
		want = append(want, b)
		total += len(b.raw)
	}
	m.checkBatches(fmt.Sprintf("read %s/%d at %d max %d", name, index, offset, maxBytes), r.Records, want)
	if r.Batches != len(want) {
		m.fatalf("read %s/%d: Batches %d, want %d", name, index, r.Batches, len(want))
	}
}

// checkBatches checks that records holds exactly the batches want.
func (m *modelRun) checkBatches(what string, records []byte, want []*modelBatch) {
	m.t.Helper()
	raws, headers, decoded := m.decodeBatches(records)
	if len(raws) != len(want) {
		m.fatalf("%s: %d batches, want %d (%s)", what, len(raws), len(want), describeBatches(want))
	}
	for i, b := range want {
		if headers[i].BaseOffset != b.base || headers[i].LastOffset() != b.last {
			m.fatalf("%s: batch %d holds %d..%d, want %d..%d", what, i, headers[i].BaseOffset, headers[i].LastOffset(), b.base, b.last)
		}
		if !slices.EqualFunc(decoded[i], b.records, sameRecord) {
			m.fatalf("%s: batch %d..%d holds %v\nwant %v", what, b.base, b.last, decoded[i], b.records)
		}
		if !bytes.Equal(raws[i], b.raw) {
			m.fatalf("%s: batch %d..%d bytes differ from what was stored", what, b.base, b.last)
		}
	}
}

func describeBatches(bs []*modelBatch) string {
	var s []string
	for _, b := range bs {
		s = append(s, fmt.Sprintf("%d..%d", b.base, b.last))
	}
	return fmt.Sprint(s)
}

func (m *modelRun) offsetForTime() {
	m.syncLog()
	name, index, mp, ok := m.pick()
	if !ok {
		return
	}
	p := m.partition(name, index)
	visible := mp.visible()
	var ts int64
	switch {
	case len(visible) > 0 && m.rng.IntN(3) > 0:
		ts = visible[m.rng.IntN(len(visible))].ts + int64(m.rng.IntN(3)) - 1
	default:
		ts = m.now() - int64(m.rng.IntN(4_000_000)) + 1000
	}
	wantOffset, wantTs, wantFound := int64(-1), int64(-1), false
	for _, r := range visible {
		if r.ts >= ts {
			wantOffset, wantTs, wantFound = r.offset, r.ts, true
			break
		}
	}
	o, got, found, err := p.OffsetForTime(ts)
	if err != nil {
		m.fatalf("offset for time %d in %s/%d: %v", ts, name, index, err)
	}
	if skipped("offsetfortime") {
		return
	}
	if found != wantFound || found && (o != wantOffset || got != wantTs) {
		m.fatalf("offset for time %d in %s/%d: (%d, %d, %v), want (%d, %d, %v); log %d..%d, batches %s",
			ts, name, index, o, got, found, wantOffset, wantTs, wantFound, mp.logStart, mp.logEnd, describeBatches(mp.batches))
	}
}

func (m *modelRun) maxTimestamp() {
	m.syncLog()
	name, index, mp, ok := m.pick()
	if !ok {
		return
	}
	p := m.partition(name, index)
	o, ts, found, err := p.MaxTimestamp()
	if err != nil {
		m.fatalf("max timestamp of %s/%d: %v", name, index, err)
	}
	// KIP-734: the largest timestamp of the records in the log, and the
	// offset of the first record carrying it.
	wantOffset, wantTs := int64(-1), int64(math.MinInt64)
	for _, r := range mp.visible() {
		if r.ts > wantTs {
			wantOffset, wantTs = r.offset, r.ts
		}
	}
	if len(mp.batches) == 0 {
		if found {
			m.fatalf("max timestamp of empty %s/%d: (%d, %d)", name, index, o, ts)
		}
		return
	}
	if found && o == wantOffset && ts == wantTs {
		return
	}
	// The engine answers from the batch headers' max timestamps; after
	// compaction or DeleteRecords removed the record carrying a batch's
	// maximum, that is a timestamp no record in the log has. Count it here
	// (TestMaxTimestampAfterRecordRemoved fails on it) and fail on any
	// other difference.
	headerTs, headerBase := int64(math.MinInt64), int64(-1)
	for _, b := range mp.batches {
		if b.maxTs > headerTs {
			headerTs, headerBase = b.maxTs, b.base
		}
	}
	if found && ts == headerTs && ts != wantTs {
		m.maxTsHeader++
		_ = headerBase
		return
	}
	m.fatalf("max timestamp of %s/%d: (%d, %d, %v), want (%d, %d); log %d..%d",
		name, index, o, ts, found, wantOffset, wantTs, mp.logStart, mp.logEnd)
}

func (m *modelRun) deleteRecords() {
	m.syncLog()
	name, index, mp, ok := m.pick()
	if !ok {
		return
	}
	p := m.partition(name, index)
	offset := mp.logStart + m.rng.Int64N(mp.logEnd-mp.logStart+1)
	if m.rng.IntN(8) == 0 {
		offset = -1
	}
	start, err := p.DeleteRecords(context.Background(), offset)
	if !m.topics[name].config.Deletes() {
		if !errors.Is(err, ErrPolicyViolation) {
			m.fatalf("delete records of %s/%d, cleanup.policy %s: %v, want a policy violation", name, index, m.topics[name].config.CleanupPolicy, err)
		}
		return
	}
	if err != nil {
		m.fatalf("delete records of %s/%d before %d: %v", name, index, offset, err)
	}
	if offset == -1 {
		offset = mp.logEnd
	}
	mp.logStart = max(mp.logStart, offset)
	mp.dropBelow()
	if start != mp.logStart {
		m.fatalf("delete records of %s/%d before %d: log start %d, want %d", name, index, offset, start, mp.logStart)
	}
	if _, err := p.DeleteRecords(context.Background(), mp.logEnd+1); !errors.Is(err, ErrOffsetOutOfRange) {
		m.fatalf("delete records past the end: %v", err)
	}
}

func (m *modelRun) advanceClock() {
	m.clock.now = m.clock.now.Add(time.Duration(m.rng.IntN(600_000)) * time.Millisecond)
}

func (m *modelRun) restart() {
	if skipped("restart") {
		return
	}
	if err := m.e.Close(); err != nil {
		m.fatalf("close: %v", err)
	}
	e, err := Open(m.opts)
	if err != nil {
		m.fatalf("reopen: %v", err)
	}
	m.e = e
	m.verifyAll("after restart")
}

// retain applies time and size retention to the model, as Kafka does:
// the oldest batches go while they are expired or what remains without
// them is still at least retention.bytes.
func (m *modelRun) retain(mp *modelPartition, config TopicConfig) {
	remaining := mp.size()
	now := m.now()
	for _, b := range mp.batches {
		expired := config.RetentionMs >= 0 && b.maxTs < now-config.RetentionMs
		oversize := config.RetentionBytes >= 0 && remaining-int64(len(b.raw)) >= config.RetentionBytes
		if !expired && !oversize {
			break
		}
		mp.logStart = b.last + 1
		remaining -= int64(len(b.raw))
	}
	mp.dropBelow()
}

func (m *modelRun) cleaner() {
	// The cleaner stops at the high watermark (retention_test.go checks
	// that); the model expects it to cover everything appended.
	m.syncLog()
	if err := m.e.RunCleaner(context.Background()); err != nil {
		m.fatalf("cleaner: %v", err)
	}
	for _, name := range m.topicNames() {
		t := m.topics[name]
		for i, mp := range t.partitions {
			if t.config.Deletes() {
				m.retain(mp, t.config)
			}
			if t.config.Compacts() {
				m.checkCompacted(name, int32(i), mp, t.config)
			}
		}
	}
	m.verifyAll("after the cleaner")
}

// allBatches reads every batch of a partition from its log start.
func (m *modelRun) allBatches(p *Partition) []byte {
	m.t.Helper()
	var out []byte
	off := p.Offsets()
	for offset := off.LogStart; offset < off.HighWatermark; {
		r, err := p.Read(offset, 1<<20)
		if err != nil {
			m.fatalf("read %s/%d at %d: %v", p.Topic(), p.Index(), offset, err)
		}
		if len(r.Records) == 0 {
			break
		}
		out = append(out, r.Records...)
		_, headers, _ := m.decodeBatches(r.Records)
		offset = headers[len(headers)-1].LastOffset() + 1
	}
	return out
}

// checkCompacted checks a compacted partition against the rules, then
// makes the model hold what the engine kept.
func (m *modelRun) checkCompacted(name string, index int32, mp *modelPartition, config TopicConfig) {
	p := m.partition(name, index)
	what := fmt.Sprintf("compaction of %s/%d", name, index)
	raws, headers, decoded := m.decodeBatches(m.allBatches(p))
	if len(mp.batches) == 0 {
		if len(raws) != 0 {
			m.fatalf("%s: %d batches in an empty partition", what, len(raws))
		}
		return
	}
	// The latest record of each key, over every batch (also the records
	// of a cut batch below the log start: the engine keeps those batches).
	latest := make(map[string]int64)
	for _, b := range mp.batches {
		for _, r := range b.records {
			if r.key != nil {
				latest[string(r.key)] = r.offset
			}
		}
	}
	horizon := m.now() - config.DeleteRetentionMs
	lastBatch := mp.batches[len(mp.batches)-1]
	got := make(map[int64]modelRecord)
	j := 0
	var kept []*modelBatch
	for i, h := range headers {
		for j < len(mp.batches) && mp.batches[j].base < h.BaseOffset {
			j++
		}
		if j == len(mp.batches) || mp.batches[j].base != h.BaseOffset || mp.batches[j].last != h.LastOffset() {
			m.fatalf("%s: batch %d..%d was not in the log (%s)", what, h.BaseOffset, h.LastOffset(), describeBatches(mp.batches))
		}
		before := mp.batches[j]
		if len(decoded[i]) == 0 {
			m.fatalf("%s: batch %d..%d kept without records", what, h.BaseOffset, h.LastOffset())
		}
		for _, r := range decoded[i] {
			k := slices.IndexFunc(before.records, func(o modelRecord) bool { return o.offset == r.offset })
			if k < 0 || !sameRecord(r, before.records[k]) {
				m.fatalf("%s: record %v was never appended", what, r)
			}
			got[r.offset] = r
		}
		kept = append(kept, &modelBatch{base: before.base, last: before.last, records: decoded[i], raw: raws[i],
			maxTs: h.MaxTimestamp, appendTime: before.appendTime})
	}
	if len(kept) == 0 || kept[len(kept)-1].base != lastBatch.base || !bytes.Equal(kept[len(kept)-1].raw, lastBatch.raw) {
		m.fatalf("%s: the last batch %d..%d was not kept as it was", what, lastBatch.base, lastBatch.last)
	}
	compacted := len(mp.batches) >= 2
	for _, b := range mp.batches {
		inLast := b == lastBatch
		for _, r := range b.records {
			if r.offset < mp.logStart {
				continue
			}
			_, present := got[r.offset]
			isLatest := r.key == nil || latest[string(r.key)] == r.offset
			expiredTombstone := r.value == nil && b.appendTime < horizon
			switch {
			case inLast || !compacted:
				if !present {
					m.fatalf("%s: record %v removed from the last batch", what, r)
				}
			case !isLatest && present:
				m.fatalf("%s: superseded record %v kept (latest of its key at %d)", what, r, latest[string(r.key)])
			case isLatest && r.key != nil && expiredTombstone && present:
				m.fatalf("%s: tombstone %v appended at %d kept past the horizon %d", what, r, b.appendTime, horizon)
			case isLatest && !(r.key != nil && expiredTombstone) && !present:
				m.fatalf("%s: latest record %v of its key removed", what, r)
			}
		}
	}
	mp.batches = kept
}

// verifyAll checks every partition's offsets and contents.
func (m *modelRun) verifyAll(what string) {
	m.t.Helper()
	m.syncLog()
	infos := m.e.Topics()
	if len(infos) != len(m.topics) {
		m.fatalf("%s: %d topics, want %d", what, len(infos), len(m.topics))
	}
	for _, info := range infos {
		t := m.topics[info.Name]
		if t == nil || info.Partitions != int32(len(t.partitions)) || !reflect.DeepEqual(info.Config, t.config) {
			m.fatalf("%s: topic %+v", what, info)
		}
		for i, mp := range t.partitions {
			p := m.partition(info.Name, int32(i))
			off := p.Offsets()
			want := Offsets{LogStart: mp.logStart, LogEnd: mp.logEnd, HighWatermark: mp.logEnd, LastStable: mp.logEnd,
				Size: mp.size(), Batches: int64(len(mp.batches))}
			if off != want {
				m.fatalf("%s: offsets of %s/%d %+v, want %+v", what, info.Name, i, off, want)
			}
			m.checkBatches(fmt.Sprintf("%s: %s/%d", what, info.Name, i), m.allBatches(p), mp.batches)
		}
	}
}

// appendTs appends one record with timestamp ts and returns its offset.
func appendTs(t *testing.T, p *Partition, key string, ts int64) int64 {
	t.Helper()
	r, err := p.AppendDurable(context.Background(), makeBatch(t, recordbatch.None, rec{key: []byte(key), value: []byte("v"), ts: ts}))
	if err != nil {
		t.Fatal(err)
	}
	return r.BaseOffset
}

// OffsetForTime after DeleteRecords (or retention) removed the batches
// that raised the running maximum timestamp: the time index entries of
// those batches go, but later batches whose timestamps do not raise the
// in-memory running maximum get none, so their records cannot be found.
// Found by TestModel.
func TestOffsetForTimeAfterDeleteRecords(t *testing.T) {
	tests := []struct {
		name       string
		before     []int64 // timestamps appended before DeleteRecords
		deleteTo   int64
		after      []int64 // timestamps appended after
		query      int64
		wantOffset int64
		wantTs     int64
	}{
		{"out of order batch after the deleted maximum", []int64{100, 200, 150}, 2, nil, 120, 2, 150},
		{"equal timestamp after deleting everything", []int64{100}, 1, []int64{100}, 50, 1, 100},
		{"older timestamp after deleting everything", []int64{100}, 1, []int64{90}, 50, 1, 90},
		{"in order, control case", []int64{100, 200, 300}, 1, nil, 150, 1, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			e := openTest(t, testOptions(dir))
			defer func() { e.Close() }()
			if _, err := e.CreateTopic("t", 1, DefaultTopicConfig()); err != nil {
				t.Fatal(err)
			}
			p, _ := e.Partition("t", 0)
			for _, ts := range tt.before {
				appendTs(t, p, "k", ts)
			}
			if _, err := p.DeleteRecords(context.Background(), tt.deleteTo); err != nil {
				t.Fatal(err)
			}
			for _, ts := range tt.after {
				appendTs(t, p, "k", ts)
			}
			for _, phase := range []string{"live", "after restart"} {
				o, ts, found, err := p.OffsetForTime(tt.query)
				if err != nil || !found || o != tt.wantOffset || ts != tt.wantTs {
					t.Errorf("%s: OffsetForTime(%d) = (%d, %d, %v, %v), want (%d, %d, true)",
						phase, tt.query, o, ts, found, err, tt.wantOffset, tt.wantTs)
				}
				if err := e.Close(); err != nil {
					t.Fatal(err)
				}
				e = openTest(t, testOptions(dir))
				p, _ = e.Partition("t", 0)
			}
		})
	}
}

// MaxTimestamp after compaction removed the record carrying a batch's
// maximum timestamp: Kafka's cleaner rebuilds the batch with the maximum of
// the records it keeps, so ListOffsets MAX_TIMESTAMP names a record that
// exists. The engine keeps the old header maximum and answers with a
// timestamp no record has, at the batch's last offset.
func TestMaxTimestampAfterRecordRemoved(t *testing.T) {
	clock := &fakeClock{now: time.UnixMilli(1_000_000)}
	opts := testOptions(t.TempDir())
	opts.Now = clock.Now
	e := openTest(t, opts)
	defer e.Close()
	config := DefaultTopicConfig()
	config.CleanupPolicy = CleanupCompact
	config.MinCleanableDirtyRatio = 0
	if _, err := e.CreateTopic("t", 1, config); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	// Batch 0..1: a@500 (the maximum, superseded later), b@100.
	if _, err := p.AppendDurable(context.Background(), makeBatch(t, recordbatch.None,
		rec{key: []byte("a"), value: []byte("1"), ts: 500}, rec{key: []byte("b"), value: []byte("1"), ts: 100})); err != nil {
		t.Fatal(err)
	}
	appendTs(t, p, "a", 200) // offset 2 supersedes a@500
	if err := e.RunCleaner(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, p, 0)
	if len(got) != 2 || got[0].offset != 1 || got[1].offset != 2 {
		t.Fatalf("after compaction: %v, want offsets 1 and 2", got)
	}
	o, ts, found, err := p.MaxTimestamp()
	if err != nil || !found || o != 2 || ts != 200 {
		t.Fatalf("MaxTimestamp = (%d, %d, %v, %v), want (2, 200): the record at 500 is gone", o, ts, found, err)
	}
}
