package broker

// A connection.
//
// The reader goroutine (serve) reads one frame at a time, parses it and
// starts its handler in a goroutine of its own; before that it puts a slot
// for the response on the out queue, in request order. The writer goroutine
// (writeLoop) takes the slots in order and waits for each to be filled, so
// that responses leave in request order however the handlers finish. The
// out queue's capacity bounds the requests in flight on one connection (the
// reader stops reading when it is full). A slot filled with nil sends
// nothing (acks=0); one filled with closeMarker ends the connection after
// the responses before it.
//
// Handlers run concurrently, but the produce requests of one connection
// append in the order they arrived, as on Kafka (a client with several
// produce requests in flight relies on it to keep a partition's records in
// the order it sent them): each waits for the one before it to have
// appended (request.turn), then waits for its fsync concurrently with the
// later ones.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxInflight bounds the requests in flight on one connection.
const maxInflight = 64

var closeMarker = []byte{}

type conn struct {
	b      *Broker
	nc     net.Conn
	logger *slog.Logger
	out    chan chan []byte
	done   chan struct{} // closed when the writer has finished

	closeOnce sync.Once

	// host is the client's address as group tools show it ("/127.0.0.1").
	host string

	// appendTurn is closed when the last produce request dispatched has
	// appended (nil before the first); only the reader goroutine uses it.
	appendTurn chan struct{}
}

func newConn(b *Broker, nc net.Conn) *conn {
	return &conn{
		b:      b,
		nc:     nc,
		logger: b.logger.With("remote", nc.RemoteAddr().String()),
		out:    make(chan chan []byte, maxInflight),
		done:   make(chan struct{}),
		host:   clientHost(nc.RemoteAddr()),
	}
}

// clientHost returns how group tools show a client's address: "/" and
// its IP, as Kafka does.
func clientHost(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok {
		return "/" + tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "/" + addr.String()
	}
	return "/" + host
}

// serve reads requests until the connection ends, then waits for the
// responses in flight to be written and closes the connection.
func (c *conn) serve(ctx context.Context) {
	if obs := c.b.cfg.Observer; obs != nil {
		obs.ConnectionOpened()
		defer obs.ConnectionClosed()
	}
	go c.writeLoop()
	var handlers sync.WaitGroup
	err := c.readLoop(ctx, &handlers)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.logger.Warn("closing connection", "err", err)
	}
	handlers.Wait()
	close(c.out)
	<-c.done
	c.close()
}

func (c *conn) close() {
	c.closeOnce.Do(func() { c.nc.Close() })
}

// readLoop reads and dispatches requests.
func (c *conn) readLoop(ctx context.Context, handlers *sync.WaitGroup) error {
	var size [4]byte
	for {
		if _, err := io.ReadFull(c.nc, size[:]); err != nil {
			return err
		}
		n := int32(binary.BigEndian.Uint32(size[:]))
		if n < 8 || n > c.b.cfg.MaxRequestBytes {
			return fmt.Errorf("%w: a frame of %d bytes (socket.request.max.bytes is %d)", errMalformed, n, c.b.cfg.MaxRequestBytes)
		}
		frame := requestFrame(int(n))
		if _, err := io.ReadFull(c.nc, frame); err != nil {
			return err
		}
		slot, err := c.dispatch(ctx, frame, true, handlers)
		if err != nil {
			return err
		}
		select {
		case c.out <- slot:
		case <-c.done:
			return net.ErrClosed
		}
	}
}

// dispatch parses a frame and starts its handler; the returned slot
// receives the response. A pooled frame goes back to the pool once the
// handler is done with the request (frames.go).
func (c *conn) dispatch(ctx context.Context, frame []byte, pooled bool, handlers *sync.WaitGroup) (chan []byte, error) {
	key, version, err := readKeyVersion(frame)
	if err != nil {
		return nil, err
	}
	h, ok := c.b.handlerByKey[key]
	if !ok {
		return nil, fmt.Errorf("unsupported api key %d (%s)", key, kmsg.NameForKey(key))
	}
	slot := make(chan []byte, 1)
	if version < h.min || version > h.max {
		if key != kmsg.ApiVersions.Int16() {
			return nil, fmt.Errorf("unsupported version %d of %s (serving %d-%d)", version, kmsg.NameForKey(key), h.min, h.max)
		}
		// Answer with the versions served, so that the client can retry.
		hdr, err := parseHeader(frame, kmsg.NewPtrApiVersionsRequest())
		if err != nil {
			return nil, err
		}
		resp := c.b.unsupportedApiVersions()
		c.b.observeRequest(key, time.Now(), nil, resp, nil)
		slot <- appendResponse(nil, hdr.correlationID, resp)
		return slot, nil
	}
	body := kmsg.RequestForKey(key)
	body.SetVersion(version)
	hdr, err := parseHeader(frame, body)
	if err != nil {
		return nil, err
	}
	if err := body.ReadFrom(frame[hdr.size:]); err != nil {
		return nil, fmt.Errorf("%w: %s v%d: %v", errMalformed, kmsg.NameForKey(key), version, err)
	}
	req := &request{header: hdr, body: body, host: c.host}
	if key == kmsg.Produce.Int16() {
		// Produce requests of a connection append in request order.
		req.turn, req.turnDone = c.appendTurn, make(chan struct{})
		c.appendTurn = req.turnDone
	}
	handlers.Add(1)
	go func() {
		defer handlers.Done()
		defer req.endTurn()
		defer func() {
			req.encoded()
			if pooled {
				// The request's byte fields alias the frame; nothing
				// keeps them past the handler (appends copy to the log).
				recycleFrame(frame)
			}
		}()
		started := time.Now()
		resp, err := h.serve(ctx, req)
		c.b.observeRequest(key, started, body, resp, err)
		switch {
		case err != nil:
			c.logger.Warn("request failed; closing connection", "api", kmsg.NameForKey(key), "version", version, "err", err)
			slot <- closeMarker
		case resp == nil:
			slot <- nil
		default:
			slot <- appendResponse(frameFor(resp), hdr.correlationID, resp)
		}
	}()
	return slot, nil
}

// writeLoop writes the responses in request order.
func (c *conn) writeLoop() {
	defer close(c.done)
	broken := false
	for slot := range c.out {
		frame := <-slot
		switch {
		case broken || frame == nil:
		case len(frame) == 0 && frame != nil:
			broken = true
			c.close()
		default:
			if _, err := c.nc.Write(frame); err != nil {
				broken = true
				c.close()
			}
			recycleFrame(frame)
		}
	}
}
