package nexmark

// The binary encoding of an Event, for record values in Kafka topics.
//
// # Format, version 1
//
// These bytes are part of the wire format; a change of layout takes a new
// version, and Decode keeps reading the old ones.
//
//	byte 0   version: 1
//	byte 1   kind: 1 person, 2 auction, 3 bid (the Kind values)
//	         the kind's numbers, each a zig-zag varint
//	         (encoding/binary.AppendVarint), in the order below
//	         the byte lengths of the kind's texts, each an unsigned varint
//	         (encoding/binary.AppendUvarint), in the order below
//	         the texts' bytes, one after another, in the order below;
//	         nothing follows them
//
//	kind     numbers                                         texts
//	person   ID, DateTime                                    Name, EmailAddress, CreditCard, City, State, Extra
//	auction  ID, InitialBid, Reserve, DateTime, Expires,     ItemName, Description, Extra
//	         Seller, Category
//	bid      Auction, Bidder, Price, DateTime                Channel, URL, Extra
//
// Keeping the texts together at the end lets Decode make them all with one
// allocation. Texts are bytes as given: Decode does not check UTF-8.

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// CodecVersion is the version byte Encode writes.
const CodecVersion = 1

// The most numbers and texts an event kind has.
const (
	maxNumbers = 7
	maxTexts   = 6
)

// Errors returned by Decode, wrapped with the offset of the fault.
var (
	// ErrCorrupt reports bytes that are not an encoded event: truncated,
	// an unknown kind, a varint out of range, lengths that disagree with
	// the bytes, or bytes left over.
	ErrCorrupt = errors.New("nexmark: corrupt event")
	// ErrVersion reports an encoding version this package does not read.
	ErrVersion = errors.New("nexmark: unknown event encoding version")
)

// Encode appends the encoding of e to dst and returns the extended slice.
// It panics if e is not valid (Kind() == KindInvalid).
func Encode(dst []byte, e Event) []byte {
	var numbers [maxNumbers]int64
	var texts [maxTexts]string
	kind := e.Kind()
	var n, t int
	switch kind {
	case KindPerson:
		p := e.Person
		numbers, n = [maxNumbers]int64{p.ID, p.DateTime}, 2
		texts, t = [maxTexts]string{p.Name, p.EmailAddress, p.CreditCard, p.City, p.State, p.Extra}, 6
	case KindAuction:
		a := e.Auction
		numbers, n = [maxNumbers]int64{a.ID, a.InitialBid, a.Reserve, a.DateTime, a.Expires, a.Seller, a.Category}, 7
		texts, t = [maxTexts]string{a.ItemName, a.Description, a.Extra}, 3
	case KindBid:
		b := e.Bid
		numbers, n = [maxNumbers]int64{b.Auction, b.Bidder, b.Price, b.DateTime}, 4
		texts, t = [maxTexts]string{b.Channel, b.URL, b.Extra}, 3
	default:
		panic("nexmark: Encode of an event that is not exactly one of person, auction and bid")
	}
	dst = append(dst, CodecVersion, byte(kind))
	for _, number := range numbers[:n] {
		dst = binary.AppendVarint(dst, number)
	}
	for _, text := range texts[:t] {
		dst = binary.AppendUvarint(dst, uint64(len(text)))
	}
	for _, text := range texts[:t] {
		dst = append(dst, text...)
	}
	return dst
}

// Decode returns the event encoded in b, which holds it and nothing else.
// Errors wrap ErrCorrupt or ErrVersion. The event does not share memory
// with b.
func Decode(b []byte) (Event, error) {
	e, err := DecodeRef(b)
	if err != nil {
		return Event{}, err
	}
	return *e, nil
}

// The allocations DecodeRef makes: an event and the person, auction or
// bid it points to, in one.
type (
	personEvent struct {
		event  Event
		person Person
	}
	auctionEvent struct {
		event   Event
		auction Auction
	}
	bidEvent struct {
		event Event
		bid   Bid
	}
)

// DecodeRef is Decode returning a pointer to the event, which it
// allocates together with the person, auction or bid the event points to:
// two allocations in all (that and the texts'), where a program that
// keeps the event of Decode behind a pointer or in an interface makes
// three.
func DecodeRef(b []byte) (*Event, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: %d bytes, too short for a header", ErrCorrupt, len(b))
	}
	if b[0] != CodecVersion {
		return nil, fmt.Errorf("%w: version %d", ErrVersion, b[0])
	}
	kind := Kind(b[1])
	var n, t int
	switch kind {
	case KindPerson:
		n, t = 2, 6
	case KindAuction:
		n, t = 7, 3
	case KindBid:
		n, t = 4, 3
	default:
		return nil, fmt.Errorf("%w: unknown kind %d at offset 1", ErrCorrupt, b[1])
	}
	d := decoder{b: b, offset: 2}
	var numbers [maxNumbers]int64
	for i := range n {
		numbers[i] = d.varint()
	}
	var lengths [maxTexts]uint64
	var total uint64
	for i := range t {
		lengths[i] = d.uvarint()
		if lengths[i] > uint64(len(b)) {
			d.fail("text length %d over the event's %d bytes", lengths[i], len(b))
		}
		total += lengths[i]
	}
	if d.err == nil && total != uint64(len(b)-d.offset) {
		d.fail("texts of %d bytes where %d remain", total, len(b)-d.offset)
	}
	if d.err != nil {
		return nil, d.err
	}
	var texts [maxTexts]string
	all := string(b[d.offset:])
	var start uint64
	for i := range t {
		texts[i] = all[start : start+lengths[i]]
		start += lengths[i]
	}
	switch kind {
	case KindPerson:
		x := &personEvent{person: Person{
			ID: numbers[0], DateTime: numbers[1],
			Name: texts[0], EmailAddress: texts[1], CreditCard: texts[2],
			City: texts[3], State: texts[4], Extra: texts[5],
		}}
		x.event.Person = &x.person
		return &x.event, nil
	case KindAuction:
		x := &auctionEvent{auction: Auction{
			ID: numbers[0], InitialBid: numbers[1], Reserve: numbers[2],
			DateTime: numbers[3], Expires: numbers[4], Seller: numbers[5], Category: numbers[6],
			ItemName: texts[0], Description: texts[1], Extra: texts[2],
		}}
		x.event.Auction = &x.auction
		return &x.event, nil
	}
	x := &bidEvent{bid: Bid{
		Auction: numbers[0], Bidder: numbers[1], Price: numbers[2], DateTime: numbers[3],
		Channel: texts[0], URL: texts[1], Extra: texts[2],
	}}
	x.event.Bid = &x.bid
	return &x.event, nil
}

// decoder reads varints from b, from offset, until the first fault, which
// it keeps in err; reads after a fault return 0.
type decoder struct {
	b      []byte
	offset int
	err    error
}

// varint reads a zig-zag varint.
func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.offset:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.offset += n
	return v
}

// uvarint reads an unsigned varint.
func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.offset:])
	if n <= 0 {
		d.fail("bad unsigned varint")
		return 0
	}
	d.offset += n
	return v
}

// fail records a fault at the current offset, unless one is recorded.
func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at offset %d", ErrCorrupt, fmt.Sprintf(format, args...), d.offset)
	}
}
