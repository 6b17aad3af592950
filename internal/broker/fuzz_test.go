package broker

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzDispatch feeds arbitrary frames to the request path a connection
// runs (key and version, header, body decoding, the handler): nothing may
// panic, and a frame either dispatches or returns an error.
func FuzzDispatch(f *testing.F) {
	for _, seed := range [][]byte{
		frame(kmsg.ApiVersions.Int16(), 3, 1, []byte{0, 2, 'g', 'o', 2, '1', 0, 0}),
		frame(kmsg.ApiVersions.Int16(), 99, 1, nil),
		frame(kmsg.Metadata.Int16(), 1, 2, []byte{0xff, 0xff, 0xff, 0xff}),
		frame(kmsg.Metadata.Int16(), 12, 2, []byte{0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 'a', 0, 1, 0, 0}),
		frame(kmsg.Produce.Int16(), 9, 3, []byte{0, 0, 0, 0}),
		{0, 0, 0, 0},
	} {
		f.Add(seed[4:]) // without the size prefix, which readLoop checks
	}
	b := startBroker(f, Config{})
	// A well-formed request of every API at its lowest and highest
	// version, so that the fuzzer starts inside each handler.
	for _, h := range b.handlers() {
		for _, version := range []int16{h.min, h.max} {
			req := kmsg.RequestForKey(h.key)
			req.SetVersion(version)
			body := req.AppendTo(nil)
			if req.IsFlexible() && h.key != kmsg.ApiVersions.Int16() {
				body = append([]byte{0}, body...) // the header's empty tagged fields
			}
			f.Add(frame(h.key, version, 7, body)[4:])
		}
	}
	c := &conn{b: b, logger: b.logger}
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) < 8 {
			return // readLoop refuses frames this short
		}
		// A fetch may ask to wait for a long time: the connection's
		// context ends the wait, as when a client goes away.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		var handlers sync.WaitGroup
		slot, err := c.dispatch(ctx, frame, false, &handlers)
		handlers.Wait()
		if err == nil {
			resp := <-slot
			if resp != nil && len(resp) >= 4 && int(binary.BigEndian.Uint32(resp)) != len(resp)-4 {
				t.Fatalf("response frame size %d for %d bytes", binary.BigEndian.Uint32(resp), len(resp)-4)
			}
		}
	})
}
