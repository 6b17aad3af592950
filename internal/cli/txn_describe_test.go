package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestParseTxnFilter(t *testing.T) {
	tests := []struct {
		name        string
		states      []string
		producerIDs []int64
		duration    time.Duration
		hasDuration bool
		want        string // fmt of the filter, or the error
	}{
		{name: "nothing", want: "{[] [] -1}"},
		{name: "states in any case, once each", states: []string{"ongoing", "PREPAREABORT", " Ongoing "},
			want: "{[Ongoing PrepareAbort] [] -1}"},
		{name: "producer ids", producerIDs: []int64{0, 1000}, want: "{[] [0 1000] -1}"},
		{name: "duration", duration: 90 * time.Second, hasDuration: true, want: "{[] [] 90000}"},
		{name: "a zero duration filters", hasDuration: true, want: "{[] [] 0}"},
		{name: "unknown state", states: []string{"Running"}, want: `--state "Running": want one of Empty, Ongoing, PrepareCommit`},
		{name: "negative producer id", producerIDs: []int64{-1}, want: "--producer-id -1: want a producer id, 0 or more"},
		{name: "negative duration", duration: -time.Minute, hasDuration: true, want: "--duration -1m0s: want a duration, not negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseTxnFilter(tt.states, tt.producerIDs, tt.duration, tt.hasDuration)
			got := fmt.Sprintf("{%v %v %d}", f.states, f.producerIDs, f.durationMillis)
			if err != nil {
				got = err.Error()
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTxnFilterKeeps(t *testing.T) {
	f := txnFilter{states: []string{"Ongoing"}, producerIDs: []int64{7}, durationMillis: -1}
	for _, tt := range []struct {
		txn  listedTxn
		want bool
	}{
		{listedTxn{State: "Ongoing", ProducerID: 7}, true},
		{listedTxn{State: "Empty", ProducerID: 7}, false},
		{listedTxn{State: "Ongoing", ProducerID: 8}, false},
	} {
		if got := f.keeps(tt.txn); got != tt.want {
			t.Errorf("keeps(%+v) = %v", tt.txn, got)
		}
	}
	if !(txnFilter{durationMillis: 5}).keeps(listedTxn{State: "Dead"}) {
		t.Errorf("an empty filter drops a transaction")
	}
}

func TestPrintTxnList(t *testing.T) {
	txns := []listedTxn{
		{TransactionalID: "orders-writer", State: "Ongoing", ProducerID: 1000, Coordinator: 1},
		{TransactionalID: "copier", State: "CompleteCommit", ProducerID: 3, Coordinator: 1},
	}
	var out bytes.Buffer
	if err := printTxnList(&out, &connection{output: "table"}, txns); err != nil {
		t.Fatal(err)
	}
	want := `TRANSACTIONAL-ID  STATE           PRODUCER-ID
orders-writer     Ongoing         1000
copier            CompleteCommit  3
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if err := printTxnList(&out, &connection{output: "json"}, []listedTxn{}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "[]\n" {
		t.Errorf("an empty list in JSON: %q", out.String())
	}
}

func TestPrintDescribedTxns(t *testing.T) {
	start := time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC)
	ms := func(t time.Time) *int64 { n := t.UnixMilli(); return &n }
	tests := []struct {
		name string
		now  time.Time
		txns []describedTxn
		want string
	}{
		{
			name: "an open transaction, and one that never began",
			now:  start.Add(95*time.Second + 400*time.Millisecond),
			txns: []describedTxn{
				{TransactionalID: "orders-writer", State: "Ongoing", ProducerID: 1000, ProducerEpoch: 3, TimeoutMillis: 60000,
					StartTimestamp: ms(start), Coordinator: 1,
					Partitions: []assignedTopic{{"orders", []int32{0, 1}}, {"payments", []int32{2}}}},
				{TransactionalID: "idle", State: "Empty", ProducerID: 1001, TimeoutMillis: 900, Coordinator: 1,
					Partitions: []assignedTopic{}},
			},
			want: `Transactional ID:  orders-writer
State:             Ongoing
Producer ID:       1000
Producer epoch:    3
Timeout:           1m0s
Started:           2024-05-01T12:00:00.123Z (1m35s ago)
Coordinator:       1
Partitions:        3

TOPIC     PARTITIONS
orders    0,1
payments  2

Transactional ID:  idle
State:             Empty
Producer ID:       1001
Producer epoch:    0
Timeout:           900ms
Started:           -
Coordinator:       1
Partitions:        0
`,
		},
		{
			name: "started under a second ago, by a clock ahead of ours",
			now:  start.Add(-time.Second),
			txns: []describedTxn{{TransactionalID: "t", State: "PrepareCommit", ProducerID: 5, ProducerEpoch: 1, TimeoutMillis: 1000,
				StartTimestamp: ms(start), Coordinator: 2, Partitions: []assignedTopic{{"a", []int32{4}}}}},
			want: `Transactional ID:  t
State:             PrepareCommit
Producer ID:       5
Producer epoch:    1
Timeout:           1s
Started:           2024-05-01T12:00:00.123Z (0s ago)
Coordinator:       2
Partitions:        1

TOPIC  PARTITIONS
a      4
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printDescribedTxns(&out, &connection{output: "table"}, tt.now, tt.txns); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", out.String(), tt.want)
			}
		})
	}
}

func TestFormatAge(t *testing.T) {
	start := time.UnixMilli(1_000_000)
	for _, tt := range []struct {
		after time.Duration
		want  string
	}{
		{0, "0s"},
		{250 * time.Millisecond, "250ms"},
		{1499 * time.Millisecond, "1s"},
		{2*time.Hour + 3*time.Minute + 4600*time.Millisecond, "2h3m5s"},
		{-time.Minute, "0s"},
	} {
		if got := formatAge(start.Add(tt.after), start.UnixMilli()); got != tt.want {
			t.Errorf("%v after: %q, want %q", tt.after, got, tt.want)
		}
	}
}

func TestDescribedTxns(t *testing.T) {
	var topics kadm.TopicsSet
	topics.Add("b", 1, 0)
	topics.Add("a", 3)
	described := kadm.DescribedTransactions{
		"w": {TxnID: "w", State: "Ongoing", ProducerID: 9, ProducerEpoch: 2, TimeoutMillis: 5000, StartTimestamp: 1234,
			Coordinator: 1, Topics: topics},
		"e":    {TxnID: "e", State: "Empty", ProducerID: 10, StartTimestamp: -1, Coordinator: 1},
		"gone": {TxnID: "gone", Err: kerr.TransactionalIDNotFound},
		"auth": {TxnID: "auth", Err: kerr.TransactionalIDAuthorizationFailed},
	}
	txns, errs := describedTxns([]string{"w", "gone", "e", "auth", "lost"}, described, nil)
	if got := fmt.Sprint(errs); !strings.Contains(got, "transactional id gone does not exist") ||
		!strings.Contains(got, "describe transactional id auth: ") || !strings.Contains(got, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED") ||
		!strings.Contains(got, "describe transactional id lost: no answer") || len(errs) != 3 {
		t.Errorf("errors: %v", errs)
	}
	if len(txns) != 2 || txns[0].TransactionalID != "w" || txns[1].TransactionalID != "e" {
		t.Fatalf("described: %+v", txns)
	}
	if w := txns[0]; w.StartTimestamp == nil || *w.StartTimestamp != 1234 || formatAssignment(w.Partitions) != "a:3;b:0,1" {
		t.Errorf("w: %+v", w)
	}
	if e := txns[1]; e.StartTimestamp != nil || e.Partitions == nil {
		t.Errorf("e: %+v (want no start and partitions [], not null)", e)
	}
	// An id the answer lacks because a request failed takes that error.
	_, errs = describedTxns([]string{"x"}, nil, errors.New("connection reset"))
	if len(errs) != 1 || errs[0].Error() != "describe transactional id x: connection reset" {
		t.Errorf("failed request: %v", errs)
	}
}
