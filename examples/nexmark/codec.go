package nexmark

// The encodings of the records the queries read and write: events in the
// input topic, rows in the output topics, and the intermediate values
// that cross repartition topics and live in stores.
//
// # Events
//
// The input topic's record values are events in flow/nexmark's binary
// encoding (model.Encode; its format is documented in flow/nexmark's
// codec.go). Keys are not read.
//
// # Rows, format version 1
//
// These bytes are part of the output topics' format: a change of layout
// takes a new version, and the decoders keep reading the old ones.
// Every row starts with a version byte, 1. Numbers are zig-zag varints
// (encoding/binary.AppendVarint), texts an unsigned varint length
// (encoding/binary.AppendUvarint) and the bytes, in the order below.
// Bids are an event holding the bid, in flow/nexmark's encoding.
//
//	query   key                  value
//	q0, q1  none (null)          the bid, as an event (no version byte of
//	                             its own: the event's comes first)
//	q2      none                 1, Auction, Price
//	q3      Auction (Int64)      1, Auction, Name, City, State
//	q4      Category (Int64)     1, Category, Auctions, TotalPrice, AveragePrice
//	q5      none                 1, WindowStart, Auction, Count
//	q6      Seller (Int64)       1, Seller, Auctions, TotalPrice, AveragePrice
//	q7      none                 1, WindowStart, then the bid as an event,
//	                             to the end of the value
//	q8      none                 1, ID, WindowStart, Name
//
// Int64 keys are flow.Int64's: 8 bytes, big-endian. q4's and q6's
// outputs are tables (the latest row of each key is its answer), the
// others streams of rows, each written once.
//
// Intermediate values (repartition topics, stores, changelogs) use the
// same scheme, with their own version byte; they are internal to an
// application and documented where they are defined.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/weir-io/weir/flow"
	model "github.com/weir-io/weir/flow/nexmark"
)

// RowVersion is the version byte that starts every row.
const RowVersion = 1

// ErrRow reports bytes that are not a row (or an intermediate value) of
// the version this package reads.
var ErrRow = errors.New("nexmark: bad row")

// EventCodec is the codec of the input topic's values: flow/nexmark's
// binary encoding of events. It decodes each event with model.DecodeRef:
// flow keeps values in interfaces, where a pointer takes no allocation of
// its own, and the event and its bid take one together.
func EventCodec() flow.Codec[*model.Event] {
	appendRef := func(dst []byte, e *model.Event) ([]byte, error) {
		if e == nil {
			return nil, fmt.Errorf("%w: a nil event", ErrRow)
		}
		return appendEvent(dst, *e)
	}
	return flow.CodecFuncs[*model.Event]{
		EncodeFunc: func(e *model.Event) ([]byte, error) { return appendRef(nil, e) },
		DecodeFunc: model.DecodeRef,
		AppendFunc: appendRef,
	}
}

// appendEvent appends the encoding of a valid event to dst (in a buffer
// of the right size at once when dst has no room: appending to a small
// one would grow it several times).
func appendEvent(dst []byte, e model.Event) ([]byte, error) {
	if e.Kind() == model.KindInvalid {
		return nil, fmt.Errorf("%w: an event that is not exactly one of person, auction and bid", ErrRow)
	}
	return model.Encode(slices.Grow(dst, eventSize(e)), e), nil
}

// BidCodec is the codec of q0's and q1's rows: a bid, written as an event
// holding it.
func BidCodec() flow.Codec[model.Bid] {
	return flow.CodecFuncs[model.Bid]{
		EncodeFunc: func(b model.Bid) ([]byte, error) { return appendEvent(nil, model.Event{Bid: &b}) },
		DecodeFunc: decodeBid,
		AppendFunc: func(dst []byte, b model.Bid) ([]byte, error) { return appendEvent(dst, model.Event{Bid: &b}) },
	}
}

// bidRefCodec is BidCodec for a pointer to the bid, which flow hands from
// operator to operator without copying it (a struct is copied into a new
// allocation each time an operator returns one).
func bidRefCodec() flow.Codec[*model.Bid] {
	return flow.CodecFuncs[*model.Bid]{
		EncodeFunc: func(b *model.Bid) ([]byte, error) { return appendEvent(nil, model.Event{Bid: b}) },
		DecodeFunc: func(data []byte) (*model.Bid, error) {
			b, err := decodeBid(data)
			if err != nil {
				return nil, err
			}
			return &b, nil
		},
		AppendFunc: func(dst []byte, b *model.Bid) ([]byte, error) { return appendEvent(dst, model.Event{Bid: b}) },
	}
}

// encodeEvent encodes a valid event.
func encodeEvent(e model.Event) []byte { return model.Encode(make([]byte, 0, eventSize(e)), e) }

// eventSize is at most the size of an event's encoding.
func eventSize(e model.Event) int {
	// The header, at most 10 bytes per varint (7 numbers, 6 lengths at
	// most), and the texts.
	size := 2 + 13*binary.MaxVarintLen64
	switch {
	case e.Person != nil:
		p := e.Person
		size += len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State) + len(p.Extra)
	case e.Auction != nil:
		a := e.Auction
		size += len(a.ItemName) + len(a.Description) + len(a.Extra)
	case e.Bid != nil:
		b := e.Bid
		size += len(b.Channel) + len(b.URL) + len(b.Extra)
	}
	return size
}

// decodeBid decodes an event that must be a bid.
func decodeBid(b []byte) (model.Bid, error) {
	e, err := model.Decode(b)
	if err != nil {
		return model.Bid{}, err
	}
	if e.Kind() != model.KindBid {
		return model.Bid{}, fmt.Errorf("%w: a %s where a bid was expected", ErrRow, e.Kind())
	}
	return *e.Bid, nil
}

// Q2Codec is the codec of q2's rows.
func Q2Codec() flow.Codec[model.Q2Row] {
	return rowCodec(func(w *writer, r model.Q2Row) {
		w.number(r.Auction)
		w.number(r.Price)
	}, func(r *reader) model.Q2Row {
		return model.Q2Row{Auction: r.number(), Price: r.number()}
	})
}

// Q3Codec is the codec of q3's rows.
func Q3Codec() flow.Codec[model.Q3Row] {
	return rowCodec(func(w *writer, r model.Q3Row) {
		w.number(r.Auction)
		w.text(r.Name)
		w.text(r.City)
		w.text(r.State)
	}, func(r *reader) model.Q3Row {
		return model.Q3Row{Auction: r.number(), Name: r.text(), City: r.text(), State: r.text()}
	})
}

// Q4Codec is the codec of q4's rows.
func Q4Codec() flow.Codec[model.Q4Row] {
	return rowCodec(func(w *writer, r model.Q4Row) {
		w.number(r.Category)
		w.number(r.Auctions)
		w.number(r.TotalPrice)
		w.number(r.AveragePrice)
	}, func(r *reader) model.Q4Row {
		return model.Q4Row{Category: r.number(), Auctions: r.number(), TotalPrice: r.number(), AveragePrice: r.number()}
	})
}

// Q5Codec is the codec of q5's rows.
func Q5Codec() flow.Codec[model.Q5Row] {
	return rowCodec(func(w *writer, r model.Q5Row) {
		w.number(r.WindowStart)
		w.number(r.Auction)
		w.number(r.Count)
	}, func(r *reader) model.Q5Row {
		return model.Q5Row{WindowStart: r.number(), Auction: r.number(), Count: r.number()}
	})
}

// Q6Codec is the codec of q6's rows.
func Q6Codec() flow.Codec[model.Q6Row] {
	return rowCodec(func(w *writer, r model.Q6Row) {
		w.number(r.Seller)
		w.number(r.Auctions)
		w.number(r.TotalPrice)
		w.number(r.AveragePrice)
	}, func(r *reader) model.Q6Row {
		return model.Q6Row{Seller: r.number(), Auctions: r.number(), TotalPrice: r.number(), AveragePrice: r.number()}
	})
}

// Q7Codec is the codec of q7's rows.
func Q7Codec() flow.Codec[model.Q7Row] {
	return rowCodec(func(w *writer, r model.Q7Row) {
		w.number(r.WindowStart)
		w.b = model.Encode(w.b, model.Event{Bid: &r.Bid})
	}, func(r *reader) model.Q7Row {
		row := model.Q7Row{WindowStart: r.number()}
		row.Bid = r.bidToEnd()
		return row
	})
}

// Q8Codec is the codec of q8's rows.
func Q8Codec() flow.Codec[model.Q8Row] {
	return rowCodec(func(w *writer, r model.Q8Row) {
		w.number(r.ID)
		w.number(r.WindowStart)
		w.text(r.Name)
	}, func(r *reader) model.Q8Row {
		return model.Q8Row{ID: r.number(), WindowStart: r.number(), Name: r.text()}
	})
}

// rowCodec makes the codec of a row type from the functions that write
// and read its fields after the version byte.
func rowCodec[T any](write func(*writer, T), read func(*reader) T) flow.Codec[T] {
	appendRow := func(dst []byte, v T) ([]byte, error) {
		w := writer{b: append(dst, RowVersion)}
		write(&w, v)
		return w.b, nil
	}
	return flow.CodecFuncs[T]{
		EncodeFunc: func(v T) ([]byte, error) { return appendRow(make([]byte, 0, 32), v) },
		AppendFunc: appendRow,
		DecodeFunc: func(b []byte) (T, error) {
			var zero T
			if len(b) == 0 || b[0] != RowVersion {
				return zero, fmt.Errorf("%w: no version %d byte", ErrRow, RowVersion)
			}
			r := reader{b: b, offset: 1}
			v := read(&r)
			if r.err == nil && r.offset != len(b) {
				r.fail("%d bytes left over", len(b)-r.offset)
			}
			if r.err != nil {
				return zero, r.err
			}
			return v, nil
		},
	}
}

// writer appends the fields of a row.
type writer struct{ b []byte }

func (w *writer) number(n int64) { w.b = binary.AppendVarint(w.b, n) }

func (w *writer) text(s string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}

// reader reads the fields of a row from b, from offset, until the first
// fault, which it keeps in err; reads after a fault return zero values.
type reader struct {
	b      []byte
	offset int
	err    error
}

func (r *reader) number() int64 {
	if r.err != nil {
		return 0
	}
	n, size := binary.Varint(r.b[r.offset:])
	if size <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.offset += size
	return n
}

func (r *reader) text() string {
	if r.err != nil {
		return ""
	}
	n, size := binary.Uvarint(r.b[r.offset:])
	if size <= 0 || n > uint64(len(r.b)-r.offset-size) {
		r.fail("bad text length")
		return ""
	}
	r.offset += size
	s := string(r.b[r.offset : r.offset+int(n)])
	r.offset += int(n)
	return s
}

// count reads a number of items that follow, each at least a byte: 0 on
// a fault or if there cannot be that many.
func (r *reader) count() int {
	n := r.number()
	if n < 0 || n > int64(len(r.b)-r.offset) {
		r.fail("bad count %d", n)
		return 0
	}
	return int(n)
}

// bidToEnd reads a bid, as an event, from the rest of the bytes.
func (r *reader) bidToEnd() model.Bid { return r.bidOf(len(r.b) - r.offset) }

// bid reads a bid as its length (a number) and an event.
func (r *reader) bid() model.Bid { return r.bidOf(r.count()) }

// bidOf reads a bid, as an event, from the next n bytes.
func (r *reader) bidOf(n int) model.Bid {
	if r.err != nil {
		return model.Bid{}
	}
	b, err := decodeBid(r.b[r.offset : r.offset+n])
	if err != nil {
		r.err = fmt.Errorf("%w: at offset %d: %w", ErrRow, r.offset, err)
		return model.Bid{}
	}
	r.offset += n
	return b
}

// fail records a fault at the current offset, unless one is recorded.
func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at offset %d", ErrRow, fmt.Sprintf(format, args...), r.offset)
	}
}
