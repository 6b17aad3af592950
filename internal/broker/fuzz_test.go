package broker

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"

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
	c := &conn{b: b, logger: b.logger}
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) < 8 {
			return // readLoop refuses frames this short
		}
		var handlers sync.WaitGroup
		slot, err := c.dispatch(context.Background(), frame, &handlers)
		handlers.Wait()
		if err == nil {
			resp := <-slot
			if resp != nil && len(resp) >= 4 && int(binary.BigEndian.Uint32(resp)) != len(resp)-4 {
				t.Fatalf("response frame size %d for %d bytes", binary.BigEndian.Uint32(resp), len(resp)-4)
			}
		}
	})
}
