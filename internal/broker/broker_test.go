package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/storage"
)

// startBroker runs a broker on a free loopback port over a fresh engine.
func startBroker(t testing.TB, cfg Config) *Broker {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := storage.Open(storage.Options{Dir: t.TempDir(), CleanerInterval: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	cfg.Logger = quiet
	b, err := Listen(cfg, e)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- b.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	return b
}

func adminClient(t *testing.T, b *Broker) *kadm.Client {
	return kadm.NewClient(client(t, b))
}

// client returns a client of the broker that sends records to the
// partition they name (kgo.ManualPartitioner).
func client(t *testing.T, b *Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr().String()), kgo.RecordPartitioner(kgo.ManualPartitioner())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestApiVersionsAndMetadata(t *testing.T) {
	b := startBroker(t, Config{})
	cl := client(t, b)
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	versions, err := adm.ApiVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, bv := range versions {
		if bv.Err != nil {
			t.Fatalf("api versions: %v", bv.Err)
		}
		for _, h := range b.handlers() {
			min, max, ok := bv.KeyVersions(h.key)
			if !ok || min != h.min || max != h.max {
				t.Fatalf("%s advertised %d-%d (%v), served %d-%d", kmsg.NameForKey(h.key), min, max, ok, h.min, h.max)
			}
		}
		if _, _, ok := bv.KeyVersions(kmsg.SASLHandshake.Int16()); ok {
			t.Fatal("an API without a handler is advertised")
		}
	}

	// A metadata request for a missing topic that allows auto-creation
	// (as producers send) creates it; kadm's does not.
	if md, err := adm.Metadata(ctx, "orders"); err != nil || !errors.Is(md.Topics["orders"].Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("metadata without auto-creation: %+v %v", md.Topics, err)
	}
	create := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("orders")
	create.Topics = append(create.Topics, rt)
	create.AllowAutoTopicCreation = true
	if _, err := create.RequestWith(ctx, cl); err != nil {
		t.Fatal(err)
	}
	md, err := adm.Metadata(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	td, ok := md.Topics["orders"]
	if !ok || td.Err != nil || len(td.Partitions) != 1 || td.Partitions[0].Leader != 1 {
		t.Fatalf("metadata for orders: %+v", md.Topics)
	}
	if len(md.Brokers) != 1 || md.Brokers[0].Port != int32(b.Addr().(*net.TCPAddr).Port) {
		t.Fatalf("brokers: %+v", md.Brokers)
	}
	topics, err := adm.ListTopics(ctx)
	if err != nil || !topics.Has("orders") {
		t.Fatalf("list topics: %v %v", topics, err)
	}
	// An invalid name is refused with its error code.
	md, err = adm.Metadata(ctx, "bad name!")
	if err != nil {
		t.Fatal(err)
	}
	if td := md.Topics["bad name!"]; !errors.Is(td.Err, kerr.InvalidTopicException) {
		t.Fatalf("invalid topic: %+v", td)
	}
}

func TestNoAutoCreate(t *testing.T) {
	b := startBroker(t, Config{DisableAutoCreate: true})
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("missing")
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = true
	resp, err := req.RequestWith(context.Background(), client(t, b))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("missing topic: %+v", resp.Topics)
	}
}

// rawRequest writes one frame and reads one response frame.
func rawRequest(t *testing.T, nc net.Conn, frame []byte) ([]byte, error) {
	t.Helper()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(frame); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(nc, size[:]); err != nil {
		return nil, err
	}
	resp := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err := io.ReadFull(nc, resp)
	return resp, err
}

// frame builds a request frame with a version 1 header.
func frame(key, version int16, correlation int32, body []byte) []byte {
	f := binary.BigEndian.AppendUint32(nil, 0)
	f = binary.BigEndian.AppendUint16(f, uint16(key))
	f = binary.BigEndian.AppendUint16(f, uint16(version))
	f = binary.BigEndian.AppendUint32(f, uint32(correlation))
	f = binary.BigEndian.AppendUint16(f, 0xffff) // null client id
	f = append(f, body...)
	binary.BigEndian.PutUint32(f, uint32(len(f)-4))
	return f
}

func TestBadInput(t *testing.T) {
	b := startBroker(t, Config{MaxRequestBytes: 1 << 20})
	dial := func() net.Conn {
		nc, err := net.Dial("tcp", b.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		return nc
	}

	// An ApiVersions version the broker does not serve: UNSUPPORTED_VERSION
	// and the versions served, in a version 0 response.
	resp, err := rawRequest(t, dial(), frame(kmsg.ApiVersions.Int16(), 99, 7, nil))
	if err != nil {
		t.Fatal(err)
	}
	if binary.BigEndian.Uint32(resp) != 7 {
		t.Fatalf("correlation id %d", binary.BigEndian.Uint32(resp))
	}
	av := kmsg.NewPtrApiVersionsResponse()
	av.Version = 0
	if err := av.ReadFrom(resp[4:]); err != nil || av.ErrorCode != kerr.UnsupportedVersion.Code || len(av.ApiKeys) == 0 {
		t.Fatalf("api versions v99: %+v %v", av, err)
	}

	closes := map[string][]byte{
		"frame over socket.request.max.bytes": binary.BigEndian.AppendUint32(nil, 2<<20),
		"negative frame size":                 binary.BigEndian.AppendUint32(nil, 0xfffffff0),
		"unknown api key":                     frame(999, 0, 1, nil),
		"unsupported metadata version":        frame(kmsg.Metadata.Int16(), 99, 1, nil),
		"truncated metadata body":             frame(kmsg.Metadata.Int16(), 1, 1, []byte{0, 0, 0, 5}),
		"header shorter than its fields":      {0, 0, 0, 8, 0, 3, 0, 1, 0, 0, 0, 0},
	}
	for name, f := range closes {
		t.Run(name, func(t *testing.T) {
			if _, err := rawRequest(t, dial(), f); err == nil {
				t.Fatal("the connection answered instead of closing")
			}
		})
	}
	// The broker still serves.
	if _, err := adminClient(t, b).ApiVersions(context.Background()); err != nil {
		t.Fatalf("after bad input: %v", err)
	}
}

// TestPipelinedOrder sends many requests without waiting and checks the
// responses come back in request order.
func TestPipelinedOrder(t *testing.T) {
	b := startBroker(t, Config{})
	nc, err := net.Dial("tcp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	const n = 200
	go func() {
		for i := range n {
			key, version := kmsg.ApiVersions.Int16(), int16(i%3)
			if i%2 == 1 {
				key, version = kmsg.Metadata.Int16(), 1
			}
			body := []byte(nil)
			if key == kmsg.Metadata.Int16() {
				body = []byte{0xff, 0xff, 0xff, 0xff} // all topics
			}
			if _, err := nc.Write(frame(key, version, int32(i), body)); err != nil {
				return
			}
		}
	}()
	for i := range n {
		var size [4]byte
		if _, err := io.ReadFull(nc, size[:]); err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		resp := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(nc, resp); err != nil {
			t.Fatal(err)
		}
		if got := int32(binary.BigEndian.Uint32(resp)); got != int32(i) {
			t.Fatalf("response %d has correlation id %d", i, got)
		}
	}
}
