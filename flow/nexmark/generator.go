package nexmark

import (
	"fmt"
	"math/bits"
)

// A Generator makes the events of a GeneratorConfig, one by one.
//
// Every event is a function of the config and its event number (see
// Generator.Event), so generators need not talk to each other: Split
// deals the events still to come among several generators, and their
// union is what the one generator would have made, each event once. A
// Generator walks positions 0, 1, 2, ... (or every k-th of them after a
// Split); the event at position p is event number p unless
// OutOfOrderGroupSize scrambles each group of positions.
//
// A Generator is not safe for concurrent use; its Event and EventTime are.
type Generator struct {
	config GeneratorConfig
	// next is the position of the next event. Invariant: next >= 0.
	next int64
	// stride is the distance between this generator's positions: 1, or
	// the product of the Split factors. Invariant: stride >= 1.
	stride int64
	// end is one past the last position: NumEvents, or maxTime without end.
	end int64
	// groupMultiplier scrambles a whole out-of-order group;
	// lastGroupMultiplier scrambles the last group, lastGroupSize long,
	// which starts at lastGroupStart when NumEvents is not a multiple of
	// OutOfOrderGroupSize.
	groupMultiplier     uint64
	lastGroupStart      int64
	lastGroupSize       int64
	lastGroupMultiplier uint64
}

// NewGenerator returns a Generator of all the events of config, from event
// number 0, or an error wrapping ErrConfig if config is not valid.
func NewGenerator(config GeneratorConfig) (*Generator, error) {
	if err := config.Validate(); err != nil {
		return nil, err
	}
	g := &Generator{config: config, stride: 1, end: config.NumEvents}
	if g.end == 0 {
		g.end = maxTime
	}
	size := config.OutOfOrderGroupSize
	g.groupMultiplier = coprimeMultiplier(size)
	g.lastGroupStart = g.end / size * size
	g.lastGroupSize = g.end - g.lastGroupStart
	g.lastGroupMultiplier = coprimeMultiplier(max(g.lastGroupSize, 1))
	return g, nil
}

// Generate returns all the events of config, which must have an end
// (NumEvents > 0), in the order a Generator makes them.
func Generate(config GeneratorConfig) ([]Event, error) {
	if config.NumEvents == 0 {
		return nil, fmt.Errorf("%w: Generate needs a number of events", ErrConfig)
	}
	g, err := NewGenerator(config)
	if err != nil {
		return nil, err
	}
	events := make([]Event, config.NumEvents)
	g.Fill(events)
	return events, nil
}

// Config returns g's configuration.
func (g *Generator) Config() GeneratorConfig { return g.config }

// Next returns the next event, or false when g has made all its events.
func (g *Generator) Next() (Event, bool) {
	if g.next >= g.end {
		return Event{}, false
	}
	n := g.eventNumber(g.next)
	g.advance()
	return g.Event(n), true
}

// Fill puts the next events in dst, from dst[0], and returns how many: fewer
// than len(dst) only when g has made all its events.
func (g *Generator) Fill(dst []Event) int {
	for i := range dst {
		e, ok := g.Next()
		if !ok {
			return i
		}
		dst[i] = e
	}
	return len(dst)
}

// Split returns k generators that together make the events g has still to
// make, each once: the i-th makes g's next i-th event and every k-th after
// it. Their event times therefore advance together. g itself is unchanged.
// It panics unless k is positive.
func (g *Generator) Split(k int) []*Generator {
	if k < 1 {
		panic(fmt.Sprintf("nexmark: Split(%d): need at least one generator", k))
	}
	parts := make([]*Generator, k)
	for i := range parts {
		part := *g
		part.next = g.next + int64(i)*g.stride
		part.stride = g.stride * int64(k)
		if part.next < g.next || part.stride < g.stride { // overflow: nothing left
			part.next = g.end
		}
		parts[i] = &part
	}
	return parts
}

// Watermark returns a time no later than that of any event g has still to
// make: the time of the first event number of the out-of-order group of
// g's next position; the greatest time when g has made all its events.
func (g *Generator) Watermark() int64 {
	if g.next >= g.end {
		return maxTime
	}
	size := g.config.OutOfOrderGroupSize
	return g.EventTime(g.next / size * size)
}

// advance moves g to its next position.
func (g *Generator) advance() {
	next := g.next + g.stride
	if next < g.next { // overflow
		next = g.end
	}
	g.next = next
}

// eventNumber is the event number at position p. Positions come in groups
// of OutOfOrderGroupSize; within a group of size s, the event at offset i
// is the one at offset (i*m + s/2) mod s, for an m coprime with s, which
// visits every offset once. (Beam takes i*953 mod s, which leaves offset 0
// in place, and repeats events when s is a multiple of 953.)
func (g *Generator) eventNumber(p int64) int64 {
	size, multiplier := g.config.OutOfOrderGroupSize, g.groupMultiplier
	if size == 1 {
		return p
	}
	if p >= g.lastGroupStart {
		size, multiplier = g.lastGroupSize, g.lastGroupMultiplier
	}
	start := p / g.config.OutOfOrderGroupSize * g.config.OutOfOrderGroupSize
	hi, lo := bits.Mul64(uint64(p-start), multiplier)
	offset := bits.Rem64(hi, lo, uint64(size)) + uint64(size/2)
	return start + int64(offset%uint64(size))
}

// coprimeMultiplier is the least number from 953 up that is coprime with
// size, so that multiplying by it modulo size permutes the offsets, and
// that does not leave them in place (is not 1 modulo size), unless size is
// at most 2.
// REQUIRES: size >= 1.
func coprimeMultiplier(size int64) uint64 {
	m := uint64(953)
	for gcd(m, uint64(size)) != 1 || size > 2 && m%uint64(size) == 1 {
		m++
	}
	return m
}

// gcd is the greatest common divisor of a and b.
func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
