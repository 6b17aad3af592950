package broker

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchReq builds a fetch request of the session and epoch, fetching the
// partitions of topic t at the given offsets.
func fetchReq(session, epoch int32, offsets map[int32]int64, forget ...int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.Version = 12
	req.SessionID, req.SessionEpoch = session, epoch
	req.MaxWaitMillis, req.MinBytes = 0, 0
	if len(offsets) > 0 {
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = "t"
		for p := range int32(8) {
			off, ok := offsets[p]
			if !ok {
				continue
			}
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p, off, 1<<20
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	if len(forget) > 0 {
		ft := kmsg.NewFetchRequestForgottenTopic()
		ft.Topic, ft.Partitions = "t", forget
		req.ForgottenTopics = append(req.ForgottenTopics, ft)
	}
	return req
}

// responded returns the partitions of a response with their high
// watermarks.
func responded(resp *kmsg.FetchResponse) map[int32]int64 {
	got := make(map[int32]int64)
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			got[p.Partition] = p.HighWatermark
		}
	}
	return got
}

// TestFetchSessionScript drives the session rules with raw requests: a
// full fetch creates a session, incremental ones carry only news, epochs
// are checked, forgotten partitions leave, epoch -1 closes.
func TestFetchSessionScript(t *testing.T) {
	b := startBroker(t, Config{})
	adm := adminClient(t, b)
	cl := client(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if created, err := adm.CreateTopic(ctx, 3, 1, nil, "t"); err != nil || created.Err != nil {
		t.Fatalf("create: %v %v", err, created.Err)
	}
	produce := func(partition int32) {
		t.Helper()
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Partition: partition, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	do := func(req *kmsg.FetchRequest) *kmsg.FetchResponse {
		t.Helper()
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	produce(0)

	full := do(fetchReq(0, 0, map[int32]int64{0: 0, 1: 0, 2: 0}))
	id := full.SessionID
	if full.ErrorCode != 0 || id == 0 || len(responded(full)) != 3 {
		t.Fatalf("full fetch: error %d, session %d, partitions %v", full.ErrorCode, id, responded(full))
	}
	steps := []struct {
		name    string
		req     *kmsg.FetchRequest
		before  func()
		code    int16
		want    map[int32]int64 // partition: high watermark
		session bool
	}{
		{name: "nothing new", req: fetchReq(id, 1, map[int32]int64{0: 1}), want: map[int32]int64{}, session: true},
		{name: "a produce to partition 2", before: func() { produce(2) }, req: fetchReq(id, 2, nil), want: map[int32]int64{2: 1}, session: true},
		{name: "a repeated epoch", req: fetchReq(id, 2, nil), code: kerr.InvalidFetchSessionEpoch.Code},
		{name: "an unknown session", req: fetchReq(id+1, 1, nil), code: kerr.FetchSessionIDNotFound.Code},
		{name: "forget 1, produce to 1 and 0", before: func() { produce(1); produce(0) }, req: fetchReq(id, 3, map[int32]int64{2: 1}, 1), want: map[int32]int64{0: 2}, session: true},
		{name: "close", req: fetchReq(id, -1, map[int32]int64{1: 0}), want: map[int32]int64{1: 1}},
		{name: "closed", req: fetchReq(id, 4, nil), code: kerr.FetchSessionIDNotFound.Code},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		resp := do(s.req)
		if resp.ErrorCode != s.code {
			t.Fatalf("%s: error %d, want %d", s.name, resp.ErrorCode, s.code)
		}
		if s.code != 0 {
			continue
		}
		if got := responded(resp); len(got) != len(s.want) {
			t.Fatalf("%s: partitions %v, want %v", s.name, got, s.want)
		} else {
			for p, hw := range s.want {
				if got[p] != hw {
					t.Fatalf("%s: partitions %v, want %v", s.name, got, s.want)
				}
			}
		}
		if (resp.SessionID == id) != s.session {
			t.Fatalf("%s: session id %d (session %d)", s.name, resp.SessionID, id)
		}
	}
}

// TestFetchSessionsWithFranzGo consumes through franz-go, which uses fetch
// sessions, across several partitions, and checks that a session was used
// and everything arrived.
func TestFetchSessionsWithFranzGo(t *testing.T) {
	b := startBroker(t, Config{})
	adm := adminClient(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if created, err := adm.CreateTopic(ctx, 4, 1, nil, "s"); err != nil || created.Err != nil {
		t.Fatalf("create: %v %v", err, created.Err)
	}
	producer := client(t, b)
	const n = 400
	for i := range n {
		producer.Produce(ctx, &kgo.Record{Topic: "s", Partition: int32(i % 4), Value: []byte{byte(i)}}, nil)
	}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(b.Addr().String()), kgo.ConsumeTopics("s"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	if err := producer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := 0
	for got < n {
		fetches := consumer.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			t.Fatal(err)
		}
		got += fetches.NumRecords()
	}
	b.sessions.mu.Lock()
	sessions := len(b.sessions.byID)
	b.sessions.mu.Unlock()
	if sessions != 1 {
		t.Errorf("%d fetch sessions, want the consumer's one", sessions)
	}
}

// TestFetchSessionEviction checks the slot limit: with every slot taken by
// a recently used session, a new client gets none; once one is idle, it
// gives its slot up.
func TestFetchSessionEviction(t *testing.T) {
	s := newFetchSessions(2, time.Minute)
	now := time.Unix(1000, 0)
	full := func() *kmsg.FetchRequest { return fetchReq(0, 0, map[int32]int64{0: 0}) }
	first, _ := s.begin(full(), now)
	second, _ := s.begin(full(), now.Add(time.Second))
	if first.session == nil || second.session == nil {
		t.Fatal("sessions not created while slots are free")
	}
	if third, _ := s.begin(full(), now.Add(30*time.Second)); third.session != nil {
		t.Fatal("a session took the slot of one used 30 s ago")
	}
	third, _ := s.begin(full(), now.Add(61*time.Second))
	if third.session == nil {
		t.Fatal("no session though one has been idle for 61 s")
	}
	if _, code := s.begin(fetchReq(first.session.id, 1, nil), now.Add(62*time.Second)); code != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("the evicted session answered with code %d", code)
	}
}

// TestFetchSessionRulesWithoutSockets drives begin and finish directly:
// a partition named twice is fetched once, as last named; a response
// keeps only partitions with news; a session emptied by forgetting ends.
func TestFetchSessionRulesWithoutSockets(t *testing.T) {
	s := newFetchSessions(10, time.Minute)
	now := time.Unix(1000, 0)
	req := fetchReq(0, 0, map[int32]int64{0: 5, 1: 0})
	dup := kmsg.NewFetchRequestTopicPartition()
	dup.Partition, dup.FetchOffset = 0, 9
	req.Topics[0].Partitions = append(req.Topics[0].Partitions, dup)
	plan, code := s.begin(req, now)
	if code != 0 || plan.session == nil || len(plan.targets) != 2 || plan.targets[0].offset != 9 {
		t.Fatalf("full fetch with partition 0 twice: code %d, targets %+v", code, plan.targets)
	}
	response := func(hw0, hw1 int64, records bool) *kmsg.FetchResponse {
		resp := kmsg.NewPtrFetchResponse()
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = "t"
		for p, hw := range []int64{hw0, hw1} {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition, rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = int32(p), hw, hw, 0
			if records && p == 1 {
				rp.RecordBatches = []byte{1}
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
		return resp
	}
	id := s.finish(plan, response(10, 3, false))
	if id != plan.session.id {
		t.Fatalf("session id %d, want %d", id, plan.session.id)
	}
	for _, step := range []struct {
		name    string
		hw0     int64
		records bool
		want    map[int32]int64
	}{
		{"nothing new", 10, false, map[int32]int64{}},
		{"a new high watermark on 0", 12, false, map[int32]int64{0: 12}},
		{"records on 1", 12, true, map[int32]int64{1: 3}},
	} {
		plan, code := s.begin(fetchReq(id, plan.session.epoch, nil), now)
		if code != 0 || !plan.incremental {
			t.Fatalf("%s: code %d, incremental %v", step.name, code, plan.incremental)
		}
		resp := response(step.hw0, 3, step.records)
		s.finish(plan, resp)
		got := responded(resp)
		if len(got) != len(step.want) {
			t.Fatalf("%s: responded %v, want %v", step.name, got, step.want)
		}
		for p, hw := range step.want {
			if got[p] != hw {
				t.Fatalf("%s: responded %v, want %v", step.name, got, step.want)
			}
		}
	}
	sess := s.byID[id]
	if order := sess.order; order[0].partition != 0 || order[1].partition != 1 {
		t.Fatalf("partition 1 returned records last, yet the order is %+v", order)
	}
	plan, code = s.begin(fetchReq(id, sess.epoch, nil, 0, 1), now)
	if code != 0 || plan.session != nil || s.byID[id] != nil {
		t.Fatalf("forgetting every partition: code %d, session %v, cached %v", code, plan.session, s.byID[id])
	}
}
