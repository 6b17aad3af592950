package txn

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDescribeTransactions(t *testing.T) {
	h := newHarness(t)
	p := h.newProducer("t")
	h.advance(time.Second)
	h.add(p, tp("b", 1), tp("a", 3), tp("a", 2))
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{"t", "unknown", ""}
	resp := h.c.DescribeTransactions(req)
	st := resp.TransactionStates[0]
	if st.ErrorCode != 0 || st.State != "Ongoing" || st.ProducerID != p.pid || st.ProducerEpoch != p.epoch ||
		st.TimeoutMillis != 60000 || st.StartTimestamp != h.now.UnixMilli() || len(st.Topics) != 2 ||
		st.Topics[0].Topic != "a" || !slices.Equal(st.Topics[0].Partitions, []int32{2, 3}) {
		t.Fatalf("described %+v", st)
	}
	wantCode(t, "unknown", resp.TransactionStates[1].ErrorCode, kerr.TransactionalIDNotFound)
	wantCode(t, "empty", resp.TransactionStates[2].ErrorCode, kerr.InvalidRequest)
}

func TestListTransactions(t *testing.T) {
	h := newHarness(t)
	a := h.newProducer("app-1")
	b := h.newProducer("app-2")
	h.newProducer("other")
	h.add(a, tp("x", 0))
	h.advance(time.Minute / 2)
	h.add(b, tp("x", 1))
	h.advance(time.Second)
	list := func(version int16, set func(r *kmsg.ListTransactionsRequest)) ([]string, *kmsg.ListTransactionsResponse) {
		t.Helper()
		req := kmsg.NewPtrListTransactionsRequest()
		req.Version = version
		set(req)
		resp := h.c.ListTransactions(h.now, req)
		var ids []string
		for _, st := range resp.TransactionStates {
			ids = append(ids, st.TransactionalID+":"+st.TransactionState)
		}
		return ids, resp
	}
	for _, tc := range []struct {
		name    string
		version int16
		set     func(r *kmsg.ListTransactionsRequest)
		want    []string
	}{
		{"all", 0, func(*kmsg.ListTransactionsRequest) {}, []string{"app-1:Ongoing", "app-2:Ongoing", "other:Empty"}},
		{"state", 0, func(r *kmsg.ListTransactionsRequest) { r.StateFilters = []string{"Empty", "Weird"} }, []string{"other:Empty"}},
		{"unknown states only", 0, func(r *kmsg.ListTransactionsRequest) { r.StateFilters = []string{"Weird"} }, nil},
		{"producer id", 0, func(r *kmsg.ListTransactionsRequest) { r.ProducerIDFilters = []int64{b.pid} }, []string{"app-2:Ongoing"}},
		{"duration", 1, func(r *kmsg.ListTransactionsRequest) { r.DurationFilterMillis = 10_000 }, []string{"app-1:Ongoing"}},
		{"duration ignored before version 1", 0, func(r *kmsg.ListTransactionsRequest) { r.DurationFilterMillis = 10_000 }, []string{"app-1:Ongoing", "app-2:Ongoing", "other:Empty"}},
		{"pattern", 2, func(r *kmsg.ListTransactionsRequest) { r.TransactionalIDPattern = kmsg.StringPtr("app-.") }, []string{"app-1:Ongoing", "app-2:Ongoing"}},
		{"pattern matches whole ids", 2, func(r *kmsg.ListTransactionsRequest) { r.TransactionalIDPattern = kmsg.StringPtr("app") }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := list(tc.version, tc.set)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("listed %v, want %v", got, tc.want)
			}
		})
	}
	_, resp := list(2, func(r *kmsg.ListTransactionsRequest) { r.TransactionalIDPattern = kmsg.StringPtr("(") })
	wantCode(t, "bad pattern", resp.ErrorCode, kerr.InvalidRegularExpression)
	_, resp = list(0, func(r *kmsg.ListTransactionsRequest) { r.StateFilters = []string{"Weird", "Ongoing"} })
	if !slices.Equal(resp.UnknownStateFilters, []string{"Weird"}) {
		t.Fatalf("unknown state filters %v", resp.UnknownStateFilters)
	}
}
