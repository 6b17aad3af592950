package txn

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The records are Kafka's: kmsg reads them back as Kafka's tools would.
func TestRecordFormat(t *testing.T) {
	m := metadata{
		producerID: 7, prevProducerID: 6, nextProducerID: 9, epoch: 3, timeoutMs: 60000, state: StatePrepareCommit,
		partitions: []TopicPartition{tp("a", 1), tp("a", 2), tp("b", 0)}, startMs: 100, updateMs: 200, version: 2,
	}
	r := txnRecord("t", m)
	var k kmsg.TxnMetadataKey
	if err := k.ReadFrom(r.Key); err != nil || k.Version != 0 || k.TransactionalID != "t" {
		t.Fatalf("key %+v: %v", k, err)
	}
	var v kmsg.TxnMetadataValue
	if err := v.ReadFrom(r.Value); err != nil {
		t.Fatal(err)
	}
	if v.Version != 1 || v.ProducerID != 7 || v.ProducerEpoch != 3 || v.TimeoutMillis != 60000 ||
		v.State != kmsg.TransactionStatePrepareCommit || v.LastUpdateTimestamp != 200 || v.StartTimestamp != 100 ||
		v.PreviousProducerID != 6 || v.NextProducerID != 9 || v.ClientTransactionVersion != 2 ||
		len(v.Topics) != 2 || v.Topics[0].Topic != "a" || len(v.Topics[0].Partitions) != 2 {
		t.Fatalf("value %+v", v)
	}
	back, err := decodeMetadata(r.Value)
	if err != nil || !reflect.DeepEqual(back, m) {
		t.Fatalf("decoded %+v (%v), want %+v", back, err, m)
	}
	empty := txnRecord("t", metadata{producerID: 1, prevProducerID: 1, nextProducerID: -1, state: StateEmpty, startMs: -1})
	var ev kmsg.TxnMetadataValue
	if err := ev.ReadFrom(empty.Value); err != nil || ev.Topics != nil {
		t.Fatalf("Empty has topics %v (Kafka writes null): %v", ev.Topics, err)
	}
	// A version 0 value, as Kafka before 4.0 writes it.
	old := kmsg.NewTxnMetadataValue()
	old.Version, old.ProducerID, old.ProducerEpoch, old.State, old.StartTimestamp = 0, 5, 2, kmsg.TransactionStateCompleteAbort, 10
	back, err = decodeMetadata(old.AppendTo(nil))
	if err != nil || back.producerID != 5 || back.prevProducerID != -1 || back.nextProducerID != -1 || back.state != StateCompleteAbort {
		t.Fatalf("version 0 value: %+v, %v", back, err)
	}
}

func TestReplayCorrupt(t *testing.T) {
	c := New(Config{})
	good := txnRecord("t", metadata{producerID: 1, state: StateEmpty, startMs: -1})
	for _, r := range []Record{
		{Key: []byte{0}},
		{Key: good.Key[:3], Value: good.Value},
		{Key: good.Key, Value: good.Value[:5]},
		{Key: good.Key, Value: []byte{0, 9, 1, 2}},
		{Key: []byte{3, 232}, Value: []byte{0, 0, 1}},
		{Key: []byte{3, 232}, Value: blockRecord(-5, 3).Value},
	} {
		if err := c.Replay(r.Key, r.Value); !errors.Is(err, ErrCorruptRecord) {
			t.Errorf("Replay(%x, %x): %v", r.Key, r.Value, err)
		}
	}
	if err := c.Replay([]byte{0, 1, 0, 1, 'g'}, []byte("a group")); err != nil {
		t.Errorf("a key version of another kind: %v", err)
	}
}

// Replaying every record the coordinator wrote gives the state it holds,
// whatever the operations were (random sequences, restarts and failed
// appends included).
func TestReplayGivesSameState(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		d := newDriver(t)
		for range 300 {
			d.step(byte(rng.UintN(256)), byte(rng.UintN(256)))
		}
		replayed := d.h.replay()
		if got, want := durable(replayed), durable(d.h.c); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: replayed\n%+v\nwant\n%+v\nafter:\n%s", seed, got, want, joinLines(d.trace))
		}
		for pid := range d.answered {
			if replayed.ids.next <= pid {
				t.Fatalf("seed %d: replay would hand out producer id %d again", seed, pid)
			}
		}
		// What the coordinator still owes markers for, the replayed one
		// recovers (with every partition, including those written).
		want := map[string]bool{}
		for id, e := range d.h.c.active {
			if e.meta.preparing() {
				want[id] = true
			}
		}
		got := map[string]bool{}
		for _, m := range replayed.Recover(d.h.now) {
			got[m.TransactionalID] = true
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: recovered markers of %v, pending %v", seed, got, want)
		}
	}
}

// FuzzReplay feeds records of the state topic, as a damaged file could
// hold them, to Replay: it must return errors, never panic, and leave the
// coordinator serving.
func FuzzReplay(f *testing.F) {
	good := txnRecord("t", metadata{producerID: 3, prevProducerID: 3, nextProducerID: -1, epoch: 1, timeoutMs: 1000,
		state: StateOngoing, partitions: []TopicPartition{tp("a", 0)}, startMs: 1, updateMs: 1})
	f.Add(good.Key, good.Value)
	f.Add(good.Key, []byte(nil))
	f.Add(good.Key[:4], good.Value[:7])
	block := blockRecord(1000, 1000)
	f.Add(block.Key, block.Value)
	f.Fuzz(func(t *testing.T, key, value []byte) {
		h := newHarness(t)
		_ = h.c.Replay(key, value)
		h.c.Recover(h.now)
		h.apply(h.c.Tick(h.now.Add(24 * 365 * 60 * 60 * 1e9)))
		p := h.newProducer("fresh")
		if code := h.add(p, tp("a", 0)); code != 0 {
			t.Fatalf("add after replaying %x/%x: %d", key, value, code)
		}
	})
}

// FuzzCoordinator drives the coordinator with request sequences a fuzzer
// chooses and checks its invariants after each one (driver.check): no
// panic, epochs monotonic per transactional id, a producer id held by one
// transactional id, markers pending only for partitions of the
// transaction, producer ids never handed out twice.
func FuzzCoordinator(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 4, 2, 5, 0, 0, 1})
	f.Add([]byte{0, 5, 2, 5, 4, 21, 8, 0, 5, 0, 6, 200, 7, 200, 0, 133})
	f.Add([]byte{9, 0, 0, 4, 1, 68, 3, 0, 11, 2, 4, 18, 5, 16, 5, 0, 10, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		d := newDriver(t)
		for i := 0; i+1 < len(ops); i += 2 {
			d.step(ops[i], ops[i+1])
		}
	})
}
