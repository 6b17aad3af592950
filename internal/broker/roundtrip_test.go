package broker

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestProduceConsume produces keyed records with headers and timestamps
// under every codec franz-go has, consumes them from the earliest offset,
// and checks every byte; then looks offsets up by time.
func TestProduceConsume(t *testing.T) {
	b := startBroker(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := adminClient(t, b)
	// One partition, so that the consumed order is the produced order.
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "events"); err != nil {
		t.Fatal(err)
	}
	codecs := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var want []*kgo.Record
	i := 0
	for name, codec := range codecs {
		producer, err := kgo.NewClient(
			kgo.SeedBrokers(b.Addr().String()),
			kgo.DefaultProduceTopic("events"),
			kgo.ProducerBatchCompression(codec),
			kgo.DisableIdempotentWrite(),
			kgo.RequiredAcks(kgo.AllISRAcks()),
			kgo.AllowAutoTopicCreation(),
		)
		if err != nil {
			t.Fatal(err)
		}
		var batch []*kgo.Record
		for range 50 {
			r := &kgo.Record{
				Key:       []byte(fmt.Sprintf("key-%d", i)),
				Value:     bytes.Repeat([]byte(fmt.Sprintf("%s-%d ", name, i)), 20),
				Headers:   []kgo.RecordHeader{{Key: "codec", Value: []byte(name)}, {Key: "n", Value: []byte(fmt.Sprint(i))}},
				Timestamp: base.Add(time.Duration(i) * time.Second),
			}
			batch = append(batch, r)
			i++
		}
		if err := producer.ProduceSync(ctx, batch...).FirstErr(); err != nil {
			t.Fatalf("produce with %s: %v", name, err)
		}
		producer.Close()
		want = append(want, batch...)
	}

	consumer, err := kgo.NewClient(
		kgo.SeedBrokers(b.Addr().String()),
		kgo.ConsumeTopics("events"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var got []*kgo.Record
	for len(got) < len(want) {
		fetches := consumer.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			t.Fatalf("poll: %v", err)
		}
		got = append(got, fetches.Records()...)
	}
	byKey := make(map[string]*kgo.Record)
	for _, r := range got {
		byKey[string(r.Key)] = r
	}
	for n, w := range want {
		g, ok := byKey[string(w.Key)]
		if !ok {
			t.Fatalf("record %s not consumed", w.Key)
		}
		if !bytes.Equal(g.Value, w.Value) || !g.Timestamp.Equal(w.Timestamp) || !sameHeaders(g.Headers, w.Headers) {
			t.Fatalf("record %d differs: got %+v, want %+v", n, g, w)
		}
	}
	// Offsets are dense from 0.
	for n, r := range got {
		if r.Offset != int64(n) {
			t.Fatalf("record %d has offset %d", n, r.Offset)
		}
	}

	// Earliest, latest, and by time.
	start, err := adm.ListStartOffsets(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	end, err := adm.ListEndOffsets(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := start.Lookup("events", 0); o.Offset != 0 {
		t.Fatalf("start offset %+v", o)
	}
	if o, _ := end.Lookup("events", 0); o.Offset != int64(len(want)) {
		t.Fatalf("end offset %+v", o)
	}
	// The record produced at base+100s is the 101st of the time order,
	// whatever the codec order: find its offset among what was consumed.
	target := base.Add(100 * time.Second)
	var wantOffset int64 = -1
	for _, r := range got {
		if !r.Timestamp.Before(target) && (wantOffset < 0 || r.Offset < wantOffset) {
			wantOffset = r.Offset
		}
	}
	byTime, err := adm.ListOffsetsAfterMilli(ctx, target.UnixMilli(), "events")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := byTime.Lookup("events", 0); o.Offset != wantOffset {
		t.Fatalf("offset after %v: %+v, want %d", target, o, wantOffset)
	}
}

func sameHeaders(a, b []kgo.RecordHeader) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}
