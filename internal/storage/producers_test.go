package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
)

// producerBatch builds a batch of n records of an idempotent producer.
func idempotentBatch(t testing.TB, producerID int64, epoch int16, seq int32, n int) []byte {
	t.Helper()
	var rs []kmsg.Record
	for i := range n {
		r := kmsg.NewRecord()
		r.OffsetDelta, r.Value = int32(i), []byte(fmt.Sprintf("p%d-e%d-s%d", producerID, epoch, int(seq)+i))
		rs = append(rs, r)
	}
	h := recordbatch.Header{
		PartitionLeaderEpoch: -1, Magic: 2, LastOffsetDelta: int32(n - 1), BaseTimestamp: 1000, MaxTimestamp: 1000,
		ProducerID: producerID, ProducerEpoch: epoch, BaseSequence: seq,
	}
	b, err := recordbatch.Build(h, rs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIdempotentAppends(t *testing.T) {
	e := openTest(t, testOptions(t.TempDir()))
	defer e.Close()
	if _, err := e.CreateTopic("t", 1, e.TopicDefaults()); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	type step struct {
		name          string
		producer      int64
		epoch         int16
		seq           int32
		n             int
		wantBase      int64
		wantDuplicate bool
		wantErr       error
	}
	steps := []step{
		{"first batch", 7, 0, 0, 3, 0, false, nil},
		{"next batch", 7, 0, 3, 2, 3, false, nil},
		{"retry of the first: its offsets, nothing written", 7, 0, 0, 3, 0, true, nil},
		{"retry of the last", 7, 0, 3, 2, 3, true, nil},
		{"a gap", 7, 0, 9, 1, 0, false, ErrOutOfOrderSequence},
		{"a repeat that is not a whole earlier batch", 7, 0, 4, 1, 0, false, ErrOutOfOrderSequence},
		{"another producer starts anywhere", 8, 3, 41, 1, 5, false, nil},
		{"a new epoch must start at 0", 7, 1, 5, 1, 0, false, ErrOutOfOrderSequence},
		{"a new epoch at 0", 7, 1, 0, 1, 6, false, nil},
		{"the old epoch is fenced", 7, 0, 5, 1, 0, false, ErrInvalidProducerEpoch},
		{"the old epoch's retry is fenced too", 7, 0, 3, 2, 0, false, ErrInvalidProducerEpoch},
		{"not idempotent: no checks", -1, -1, -1, 1, 7, false, nil},
	}
	for _, s := range steps {
		var batch []byte
		if s.producer < 0 {
			batch = valueBatch(t, "plain", s.n, 1000)
		} else {
			batch = idempotentBatch(t, s.producer, s.epoch, s.seq, s.n)
		}
		res, err := p.Append(batch)
		switch {
		case s.wantErr != nil:
			if !errors.Is(err, s.wantErr) {
				t.Fatalf("%s: %v, want %v", s.name, err, s.wantErr)
			}
		case err != nil:
			t.Fatalf("%s: %v", s.name, err)
		case res.BaseOffset != s.wantBase || res.Duplicate != s.wantDuplicate:
			t.Fatalf("%s: base %d duplicate %v, want %d %v", s.name, res.BaseOffset, res.Duplicate, s.wantBase, s.wantDuplicate)
		}
	}
	if off := p.Offsets(); off.LogEnd != 8 {
		t.Errorf("log end %d, want 8: a duplicate was written", off.LogEnd)
	}
}

// The producer states survive a restart, including ones written after the
// last checkpoint (rebuilt from the log), and only the last five batches
// of a producer are remembered.
func TestProducerStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	e := openTest(t, opts)
	if _, err := e.CreateTopic("t", 2, e.TopicDefaults()); err != nil {
		t.Fatal(err)
	}
	p0, _ := e.Partition("t", 0)
	for seq := int32(0); seq < 10; seq++ {
		if _, err := p0.Append(idempotentBatch(t, 1, 0, seq, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	p1, _ := e.Partition("t", 1)
	for seq := int32(0); seq < 3; seq++ { // after the checkpoint: replayed
		if _, err := p1.Append(idempotentBatch(t, 2, 4, seq*2, 2)); err != nil {
			t.Fatal(err)
		}
	}
	// A crash: the engine is abandoned, not closed (no checkpoint).
	e.log.Close()
	e.db.Close()
	for _, lose := range []bool{false, true} {
		if lose {
			// And the index is lost: every state comes from the log.
			if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
				t.Fatal(err)
			}
		}
		checkProducersAfterRestart(t, opts, lose)
	}
}

func checkProducersAfterRestart(t *testing.T, opts Options, second bool) {
	e := openTest(t, opts)
	defer e.Close()
	p0, _ := e.Partition("t", 0)
	p1, _ := e.Partition("t", 1)
	tests := []struct {
		name      string
		p         *Partition
		batch     []byte
		wantBase  int64
		duplicate bool
		wantErr   error
	}{
		{"retry of p0's last batch", p0, idempotentBatch(t, 1, 0, 9, 1), 9, true, nil},
		{"retry of p0's fifth-last", p0, idempotentBatch(t, 1, 0, 5, 1), 5, true, nil},
		{"p0's sixth-last is forgotten: out of order", p0, idempotentBatch(t, 1, 0, 4, 1), 0, false, ErrOutOfOrderSequence},
		{"p0 continues", p0, idempotentBatch(t, 1, 0, 10, 1), 10, false, nil},
		{"retry of p1's batch written after the checkpoint", p1, idempotentBatch(t, 2, 4, 2, 2), 2, true, nil},
		{"p1 continues", p1, idempotentBatch(t, 2, 4, 6, 1), 6, false, nil},
		{"p1's producer fenced by epoch", p1, idempotentBatch(t, 2, 3, 7, 1), 0, false, ErrInvalidProducerEpoch},
	}
	if second { // the first round appended p0 10 and p1 6
		tests = []struct {
			name      string
			p         *Partition
			batch     []byte
			wantBase  int64
			duplicate bool
			wantErr   error
		}{
			{"retry of p0's last batch", p0, idempotentBatch(t, 1, 0, 10, 1), 10, true, nil},
			{"retry of p1's last batch", p1, idempotentBatch(t, 2, 4, 6, 1), 6, true, nil},
			{"p1's gap", p1, idempotentBatch(t, 2, 4, 8, 1), 0, false, ErrOutOfOrderSequence},
		}
	}
	for _, tt := range tests {
		res, err := tt.p.Append(tt.batch)
		switch {
		case tt.wantErr != nil:
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: %v, want %v", tt.name, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case res.BaseOffset != tt.wantBase || res.Duplicate != tt.duplicate:
			t.Errorf("%s: base %d duplicate %v, want %d %v", tt.name, res.BaseOffset, res.Duplicate, tt.wantBase, tt.duplicate)
		}
	}
}

func TestProducerStateEncoding(t *testing.T) {
	s := &producerState{epoch: 3, lastAppend: 12345}
	for i := range 7 {
		h := recordbatch.Header{ProducerID: 1, ProducerEpoch: 3, BaseSequence: int32(i * 2), LastOffsetDelta: 1}
		s.add(h, int64(i*10), 99)
	}
	got, err := decodeProducerState(encodeProducerState(s))
	if err != nil || got.epoch != 3 || got.lastAppend != 99 || len(got.batches) != producerBatches || got.batches[0] != s.batches[0] || got.batches[4].lastSeq != 13 {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, make([]byte, 10), append(encodeProducerState(s), 0)} {
		if _, err := decodeProducerState(bad); err == nil {
			t.Errorf("decoded %x", bad)
		}
	}
	if !inSequence(1<<31-1, 0) || inSequence(5, 7) || !inSequence(5, 6) {
		t.Error("inSequence")
	}
}

// A producer that has not appended for producer.id.expiration.ms is
// forgotten by the cleaner, unless it has a transaction open.
func TestProducerExpiry(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	opts := testOptions(t.TempDir())
	opts.Now, opts.ProducerExpiration = clock.Now, time.Hour
	e := openTest(t, opts)
	defer e.Close()
	if _, err := e.CreateTopic("t", 1, e.TopicDefaults()); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Partition("t", 0)
	if _, err := p.Append(idempotentBatch(t, 1, 0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	clock.now = clock.now.Add(30 * time.Minute)
	if _, err := p.Append(idempotentBatch(t, 2, 0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	clock.now = clock.now.Add(40 * time.Minute) // producer 1: 70 min, producer 2: 40 min
	if err := e.RunCleaner(t.Context()); err != nil {
		t.Fatal(err)
	}
	ids := func() []int64 {
		var out []int64
		for _, info := range p.Producers() {
			out = append(out, info.ID)
		}
		return out
	}
	if got := ids(); len(got) != 1 || got[0] != 2 {
		t.Fatalf("producers after expiry: %v, want [2]", got)
	}
	// Producer 1 is unknown again: its old batch is new to the partition.
	if res, err := p.Append(idempotentBatch(t, 1, 0, 0, 1)); err != nil || res.Duplicate {
		t.Errorf("the expired producer's batch: %+v %v", res, err)
	}
}
