package compat

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
)

// responseLoss is the dialer of a franz-go producer that loses the response
// to one produce request, as a network that fails at the wrong moment
// does: the connection reads the whole response, so the broker has
// appended and acknowledged the batches, then closes instead of handing it
// over. kgo must then retry those batches, and those of the requests it
// wrote after it on the same connection, on a new connection, with the
// same producer id, epoch and sequence numbers, and the broker must
// recognise them as retries.
//
// It keeps the record batches of every produce request written, and the
// lost response, for check. kgo writes each request with one Write call;
// a produce request that does not parse as one is an error for check.
type responseLoss struct {
	// lose is the number of the produce request, counted from 1, whose
	// response is lost.
	lose int
	mu   struct {
		sync.Mutex
		conns int // connections dialed, numbered from 1
		// sent are the produce requests written, in order: request n is
		// sent[n-1].
		sent []sentRequest
		// cut is the connection that lost the response (0: none yet),
		// and lost the response.
		cut  int
		lost *kmsg.ProduceResponse
		err  error
	}
}

// sentRequest is a produce request that was written: on which connection,
// its correlation id and version, and its record batches; failed if
// writing it failed.
type sentRequest struct {
	conn        int
	correlation int32
	version     int16
	batches     []sentBatch
	failed      bool
}

// sentBatch is a record batch of a produce request.
type sentBatch struct {
	topic     string
	partition int32
	header    recordbatch.Header
}

// sameBatch reports whether two sent batches are the same batch of the
// same producer: a retry sends it again as it was.
func (b sentBatch) sameBatch(o sentBatch) bool {
	h, g := b.header, o.header
	return b.topic == o.topic && b.partition == o.partition && h.ProducerID == g.ProducerID &&
		h.ProducerEpoch == g.ProducerEpoch && h.BaseSequence == g.BaseSequence &&
		h.NumRecords == g.NumRecords && h.CRC == g.CRC
}

func (b sentBatch) String() string {
	return fmt.Sprintf("%s[%d] producer %d epoch %d sequence %d (%d records)",
		b.topic, b.partition, b.header.ProducerID, b.header.ProducerEpoch, b.header.BaseSequence, b.header.NumRecords)
}

// errResponseLost is what kgo reads instead of the lost response.
var errResponseLost = fmt.Errorf("compat: produce response lost: %w", net.ErrClosed)

// dial connects as a net.Dialer does (kgo.Dialer).
func (l *responseLoss) dial(ctx context.Context, network, address string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.conns++
	return &lossyConn{Conn: conn, loss: l, id: l.mu.conns}, nil
}

// lossyConn is a connection of responseLoss's. It reads the broker's
// responses whole, one at a time, so that it can tell them apart by their
// correlation ids, and hands them over but for the lost one.
type lossyConn struct {
	net.Conn
	loss *responseLoss
	id   int
	// pending is what is left to hand over of the response read last.
	// Only the client's reading goroutine uses it.
	pending []byte
}

// Write notes a request before writing it, since its response may be read
// before Write returns.
func (c *lossyConn) Write(b []byte) (int, error) {
	request := c.loss.writing(c.id, b)
	n, err := c.Conn.Write(b)
	if err != nil {
		c.loss.failed(request)
	}
	return n, err
}

func (c *lossyConn) Read(b []byte) (int, error) {
	if len(c.pending) == 0 {
		frame, err := readFrame(c.Conn)
		if err != nil {
			return 0, err
		}
		if c.loss.read(c.id, frame[4:]) {
			c.Conn.Close()
			return 0, errResponseLost
		}
		c.pending = frame
	}
	n := copy(b, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// writing notes a request about to be written on connection conn: the
// batches of a produce request. It returns the request's number, 0 if it
// is not a produce request.
func (l *responseLoss) writing(conn int, frame []byte) int {
	req, correlation, err := parseProduceRequest(frame)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil:
		l.mu.err = errors.Join(l.mu.err, err)
		return 0
	case req == nil:
		return 0
	}
	sent := sentRequest{conn: conn, correlation: correlation, version: req.Version}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			h, err := recordbatch.ReadHeader(p.Records)
			if err != nil {
				l.mu.err = errors.Join(l.mu.err, fmt.Errorf("produce request to %s[%d]: %w", t.Topic, p.Partition, err))
				continue
			}
			sent.batches = append(sent.batches, sentBatch{topic: t.Topic, partition: p.Partition, header: h})
		}
	}
	l.mu.sent = append(l.mu.sent, sent)
	return len(l.mu.sent)
}

// failed notes that writing request number n failed: it does not count as
// sent.
func (l *responseLoss) failed(n int) {
	if n == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.sent[n-1].failed = true
}

// read notes a response read on connection conn (its header and body) and
// reports whether it is the one to lose: the response to produce request
// number lose.
func (l *responseLoss) read(conn int, response []byte) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.cut != 0 || len(l.mu.sent) < l.lose || len(response) < 4 {
		return false
	}
	target := l.mu.sent[l.lose-1]
	if target.conn != conn || target.failed || int32(binary.BigEndian.Uint32(response)) != target.correlation {
		return false
	}
	l.mu.cut = conn
	resp, err := parseProduceResponse(response, target.version)
	if err != nil {
		l.mu.err = errors.Join(l.mu.err, fmt.Errorf("the produce response to lose: %w", err))
	}
	l.mu.lost = resp
	return true
}

// check checks that a response was lost, that it acknowledged every batch
// of its request (so that the broker had them when kgo retried), and that
// every batch whose response never came (that request's and those written
// after it on the same connection) was written again on another,
// unchanged.
func (l *responseLoss) check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.err != nil {
		return l.mu.err
	}
	if l.mu.lost == nil {
		return fmt.Errorf("no produce response was lost: franz-go wrote %d produce requests, the response to number %d was to be lost", len(l.mu.sent), l.lose)
	}
	for _, t := range l.mu.lost.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return fmt.Errorf("the lost response refused %s[%d]: %w (the retry would be the first write, not a duplicate)", t.Topic, p.Partition, err)
			}
		}
	}
	if len(l.mu.sent[l.lose-1].batches) == 0 {
		return errors.New("the produce request whose response was lost had no batch")
	}
	for n, unanswered := range l.mu.sent[l.lose-1:] {
		if unanswered.conn != l.mu.cut {
			continue
		}
		for _, b := range unanswered.batches {
			if !l.sentAgainLocked(b) {
				return fmt.Errorf("the batch %s of produce request %d, whose response never came, was not sent again unchanged", b, l.lose+n)
			}
		}
	}
	return nil
}

// sentAgainLocked reports whether a batch was written on a connection other
// than the one that lost its response.
// REQUIRES: l.mu is held.
func (l *responseLoss) sentAgainLocked(b sentBatch) bool {
	for _, r := range l.mu.sent {
		if r.conn == l.mu.cut || r.failed {
			continue
		}
		for _, again := range r.batches {
			if again.sameBatch(b) {
				return true
			}
		}
	}
	return false
}

// parseProduceRequest parses a request frame as a client writes it (size,
// api key, version, correlation id, client id, tagged fields in flexible
// versions, body) and returns it with its correlation id, or nil if it is
// not a produce request.
func parseProduceRequest(frame []byte) (*kmsg.ProduceRequest, int32, error) {
	if len(frame) < 14 {
		return nil, 0, fmt.Errorf("a write of %d bytes is not a request", len(frame))
	}
	if key := int16(binary.BigEndian.Uint16(frame[4:])); key != kmsg.Produce.Int16() {
		return nil, 0, nil
	}
	if size := binary.BigEndian.Uint32(frame); int(size) != len(frame)-4 {
		return nil, 0, fmt.Errorf("a produce request of %d bytes written as %d", size, len(frame)-4)
	}
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(int16(binary.BigEndian.Uint16(frame[6:])))
	correlation := int32(binary.BigEndian.Uint32(frame[8:]))
	body := frame[14:]
	if n := int16(binary.BigEndian.Uint16(frame[12:])); n > 0 { // the client id
		if int(n) > len(body) {
			return nil, 0, errors.New("produce request: short client id")
		}
		body = body[n:]
	}
	body, err := skipTags(body, req.IsFlexible())
	if err != nil {
		return nil, 0, fmt.Errorf("produce request header: %w", err)
	}
	if err := req.ReadFrom(body); err != nil {
		return nil, 0, fmt.Errorf("produce request v%d: %w", req.Version, err)
	}
	return req, correlation, nil
}

// readFrame reads one response, its size included, from r.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	frame := make([]byte, 4+binary.BigEndian.Uint32(size[:]))
	copy(frame, size[:])
	if _, err := io.ReadFull(r, frame[4:]); err != nil {
		return nil, err
	}
	return frame, nil
}

// parseProduceResponse parses a produce response after its size
// (correlation id, tagged fields in flexible versions, body).
func parseProduceResponse(b []byte, version int16) (*kmsg.ProduceResponse, error) {
	resp := kmsg.NewPtrProduceResponse()
	resp.SetVersion(version)
	body, err := skipTags(b[4:], resp.IsFlexible())
	if err != nil {
		return nil, fmt.Errorf("produce response header: %w", err)
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("produce response v%d: %w", version, err)
	}
	return resp, nil
}

// skipTags skips the tagged fields of a flexible header.
func skipTags(b []byte, flexible bool) ([]byte, error) {
	if !flexible {
		return b, nil
	}
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errors.New("bad tag count")
	}
	b = b[n:]
	for range count {
		_, n := binary.Uvarint(b) // the tag
		if n <= 0 {
			return nil, errors.New("bad tag")
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, errors.New("bad tag size")
		}
		b = b[n+int(size):]
	}
	return b, nil
}
