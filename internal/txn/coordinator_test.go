package txn

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{MaxTimeout: time.Hour, IDExpiration: time.Hour, ProducerIDBlockSize: 10}, true},
		{Config{MaxTimeout: -time.Second}, false},
		{Config{ProducerIDBlockSize: -1}, false},
		{Config{MaxTimeout: 1 << 31 * time.Millisecond}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v): %v", tc.cfg, err)
		}
	}
}

// Producers on many goroutines, appending under one lock as the broker
// does: every transaction commits, and replaying the log gives the same
// state (run with -race).
func TestConcurrentProducers(t *testing.T) {
	c := New(Config{ProducerIDBlockSize: 2})
	var mu sync.Mutex // the broker's append lock
	var log []Record
	var do func(prepare func() *Write) *Write
	do = func(prepare func() *Write) *Write {
		mu.Lock()
		w := prepare()
		log = append(log, w.Records...)
		c.Finish(w, 0)
		mu.Unlock()
		for _, m := range w.Markers {
			do(func() *Write { return c.MarkersWritten(start, m) })
		}
		return w
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			id := fmt.Sprintf("t%d", g)
			init := do(func() *Write { return c.InitProducerID(start, initReq(5, id, time.Minute, -1, -1)) }).Response.(*kmsg.InitProducerIDResponse)
			p := producer{id, init.ProducerID, init.ProducerEpoch}
			for i := range 20 {
				if w := do(func() *Write {
					return c.AddToTransaction(start, id, p.pid, p.epoch, []TopicPartition{tp("x", int32(i))})
				}); w.Err != nil {
					t.Errorf("%s add %d: %v", id, i, w.Err)
					return
				}
				if err := c.VerifyProduce(id, p.pid, p.epoch, tp("x", int32(i))); err != nil {
					t.Errorf("%s verify %d: %v", id, i, err)
				}
				resp := do(func() *Write { return c.EndTxn(start, endReq(5, p, true)) }).Response.(*kmsg.EndTxnResponse)
				if resp.ErrorCode != 0 {
					t.Errorf("%s end %d: %d", id, i, resp.ErrorCode)
					return
				}
				p.epoch = resp.ProducerEpoch
			}
		})
	}
	wg.Wait()
	if s := c.Summary(); s.Commits != 160 || s.TransactionalIDs != 8 || s.Completing != 0 {
		t.Fatalf("summary %+v", s)
	}
	replayed := New(Config{})
	for _, r := range log {
		if err := replayed.Replay(r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	for id, m := range durable(c) {
		if got := replayed.txns[id].meta; got.epoch != m.epoch || got.state != m.state || got.producerID != m.producerID {
			t.Fatalf("%s replayed %+v, want %+v", id, got, m)
		}
	}
}
