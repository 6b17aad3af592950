package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestParsePartitionArgs(t *testing.T) {
	tests := []struct {
		args []string
		want string // the scopes, or the error
	}{
		{[]string{"orders"}, "[{orders []}]"},
		{[]string{"orders:2,0", "payments", "orders:1"}, "[{orders [0 1 2]} {payments []}]"},
		{[]string{"orders:1", "orders"}, "[{orders []}]"},
		{[]string{"orders", "orders:x"}, `"orders:x": want TOPIC or TOPIC:PARTITION,PARTITION,... with partition numbers`},
		{[]string{":1"}, `":1": want TOPIC`},
		{[]string{"orders:-1"}, `"orders:-1": want TOPIC`},
	}
	for _, tt := range tests {
		scopes, err := parsePartitionArgs(tt.args)
		got := fmt.Sprint(scopes)
		if err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("%q: got %s, want %s", tt.args, got, tt.want)
		}
	}
}

func TestProducerRows(t *testing.T) {
	partitions := []topicPartition{{"orders", 0}, {"orders", 1}, {"orders", 2}, {"orders", 3}}
	described := kadm.DescribedProducersTopics{"orders": {Topic: "orders", Partitions: kadm.DescribedProducersPartitions{
		0: {Leader: 1, Topic: "orders", Partition: 0, ActiveProducers: kadm.DescribedProducers{
			2000: {ProducerID: 2000, ProducerEpoch: 1, LastSequence: 4, LastTimestamp: 1714564800123, CoordinatorEpoch: -1, CurrentTxnStartOffset: 7},
			1000: {ProducerID: 1000, ProducerEpoch: 0, LastSequence: -1, LastTimestamp: -1, CoordinatorEpoch: 3, CurrentTxnStartOffset: -1},
		}},
		1: {Leader: 1, Topic: "orders", Partition: 1, ActiveProducers: kadm.DescribedProducers{}},
		2: {Leader: 1, Topic: "orders", Partition: 2, Err: kerr.NotLeaderForPartition},
	}}}
	rows, errs := producerRows(partitions, described, nil)
	if got := fmt.Sprint(errs); len(errs) != 2 ||
		!strings.Contains(got, "describe producers of topic orders partition 2: ") || !strings.Contains(got, "NOT_LEADER_FOR_PARTITION") ||
		!strings.Contains(got, "describe producers of topic orders partition 3: no answer") {
		t.Errorf("errors: %v", errs)
	}
	if len(rows) != 2 || rows[0].Partition != 0 || rows[1].Partition != 1 || rows[1].Producers == nil {
		t.Fatalf("rows: %+v", rows)
	}
	var out bytes.Buffer
	if err := printPartitionProducers(&out, &connection{output: "table"}, rows); err != nil {
		t.Fatal(err)
	}
	want := `TOPIC   PARTITION  PRODUCER-ID  EPOCH  LAST-SEQUENCE  LAST-TIMESTAMP            COORDINATOR-EPOCH  TXN-START-OFFSET
orders  0          1000         0      -              -                         3                  -
orders  0          2000         1      4              2024-05-01T12:00:00.123Z  -                  7
orders  1          -            -      -              -                         -                  -
`
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if err := printPartitionProducers(&out, &connection{output: "json"}, rows[:1]); err != nil {
		t.Fatal(err)
	}
	wantJSON := `[
  {
    "topic": "orders",
    "partition": 0,
    "leader": 1,
    "producers": [
      {
        "producer_id": 1000,
        "producer_epoch": 0,
        "last_sequence": null,
        "last_timestamp": null,
        "coordinator_epoch": 3,
        "current_txn_start_offset": null
      },
      {
        "producer_id": 2000,
        "producer_epoch": 1,
        "last_sequence": 4,
        "last_timestamp": 1714564800123,
        "coordinator_epoch": null,
        "current_txn_start_offset": 7
      }
    ]
  }
]
`
	if out.String() != wantJSON {
		t.Errorf("JSON:\n%s\nwant:\n%s", out.String(), wantJSON)
	}

	// A failed request: every partition not answered takes its error.
	_, errs = producerRows(partitions[:1], nil, errors.New("connection reset"))
	if len(errs) != 1 || errs[0].Error() != "describe producers of topic orders partition 0: connection reset" {
		t.Errorf("failed request: %v", errs)
	}
}
