package txn_test

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/txn"
)

// stateTopic stands for the broker's __transaction_state partition.
type stateTopic struct{ records []txn.Record }

// handle does what the broker does with every Write: append, finish,
// (wait for durability, answer,) write the markers and report them.
func (s *stateTopic) handle(c *txn.Coordinator, now time.Time, w *txn.Write) {
	s.records = append(s.records, w.Records...)
	c.Finish(w, 0)
	for _, m := range w.Markers {
		outcome := "abort"
		if m.Commit {
			outcome = "commit"
		}
		fmt.Printf("  %s markers of producer %d/%d in %v\n", outcome, m.ProducerID, m.ProducerEpoch, m.Partitions)
		s.handle(c, now, c.MarkersWritten(now, m))
	}
}

// A transactions version 2 producer commits a transaction: its produce
// adds the partition, EndTxn decides, the markers complete it.
func Example() {
	c := txn.New(txn.Config{})
	log := &stateTopic{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	init := kmsg.NewPtrInitProducerIDRequest()
	init.Version = 5
	init.TransactionalID = kmsg.StringPtr("orders-app")
	init.TransactionTimeoutMillis = 60_000
	w := c.InitProducerID(now, init)
	log.handle(c, now, w)
	pid := w.Response.(*kmsg.InitProducerIDResponse)
	fmt.Printf("producer %d/%d\n", pid.ProducerID, pid.ProducerEpoch)

	// Before appending a produce (version 12) of the transaction, the
	// partition leader adds the partition.
	w = c.AddToTransaction(now, "orders-app", pid.ProducerID, pid.ProducerEpoch, []txn.TopicPartition{{Topic: "orders", Partition: 3}})
	log.handle(c, now, w)
	fmt.Println("produce allowed:", w.Err == nil)

	end := kmsg.NewPtrEndTxnRequest()
	end.Version = 5
	end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = "orders-app", pid.ProducerID, pid.ProducerEpoch, true
	w = c.EndTxn(now, end)
	log.handle(c, now, w)
	resp := w.Response.(*kmsg.EndTxnResponse)
	fmt.Printf("EndTxn: error %d, next transaction at %d/%d\n", resp.ErrorCode, resp.ProducerID, resp.ProducerEpoch)

	fmt.Printf("%d records; summary %+v\n", len(log.records), c.Summary())
	// Output:
	// producer 0/0
	// produce allowed: true
	//   commit markers of producer 0/1 in [{orders 3}]
	// EndTxn: error 0, next transaction at 0/1
	// 5 records; summary {TransactionalIDs:1 Open:0 Completing:0 Commits:1 Aborts:0 TimedOut:0 Fenced:0 Expired:0 NextProducerID:1}
}
