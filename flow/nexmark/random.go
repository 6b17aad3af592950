package nexmark

import (
	"math"
	"math/bits"
	"strings"
)

// random is the generator's source of random choices: SplitMix64, seeded
// afresh for every event from the config's seed and the event id, so that
// an event does not depend on the events made before it.
type random struct {
	state uint64
}

// newRandom returns the random source of event id under seed.
func newRandom(seed uint64, eventID int64) random {
	return random{state: mix64(seed ^ mix64(uint64(eventID)+0x632be59bd9b4e019))}
}

// mix64 is SplitMix64's finalizer, a bijection that spreads every input bit
// over the output.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uint64 returns the next 64 random bits.
func (r *random) uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return mix64(r.state)
}

// intn returns a number in [0, n).
// REQUIRES: n > 0.
func (r *random) intn(n int64) int64 {
	hi, _ := bits.Mul64(r.uint64(), uint64(n))
	return int64(hi)
}

// float64 returns a number in [0, 1).
func (r *random) float64() float64 {
	return float64(r.uint64()>>11) / (1 << 53)
}

// price returns a price in cents between $1 and $1,000,000, spread evenly
// over the orders of magnitude, as Beam draws them.
func (r *random) price() int64 {
	return int64(math.Round(math.Pow(10, r.float64()*6) * 100))
}

// minWordLength is the shortest text appendText makes before trimming.
const minWordLength = 3

// appendText writes a random text of minWordLength to maxLength-1
// characters to b: lower-case letters, and one in 13 the separator, with
// leading and trailing spaces trimmed (as Beam's nextString).
// REQUIRES: minWordLength < maxLength <= 128.
func (r *random) appendText(b *strings.Builder, maxLength int64, separator byte) {
	var text [128]byte
	n := minWordLength + r.intn(maxLength-minWordLength)
	for i := range n {
		if r.intn(13) == 0 {
			text[i] = separator
		} else {
			text[i] = byte('a' + r.intn(26))
		}
	}
	start, end := int64(0), n
	for start < end && text[start] == ' ' {
		start++
	}
	for end > start && text[end-1] == ' ' {
		end--
	}
	b.Write(text[start:end])
}

// appendLetters writes n random lower-case letters to b.
func (r *random) appendLetters(b *strings.Builder, n int64) {
	// 13 letters per 64 random bits: 26^13 < 2^64.
	var letters [13]byte
	for n > 0 {
		v, k := r.uint64(), min(n, int64(len(letters)))
		for i := range k {
			letters[i] = byte('a' + v%26)
			v /= 26
		}
		b.Write(letters[:k])
		n -= k
	}
}

// extraLength is the length of the Extra text that brings an event of size
// bytes to average on average: within 20% either side of the difference,
// and 0 when the event is already as large.
func (r *random) extraLength(size, average int64) int64 {
	if size >= average {
		return 0
	}
	rest := average - size
	delta := (rest*2 + 5) / 10 // rest * 0.2, rounded half up
	if delta == 0 {
		return rest
	}
	return rest - delta + r.intn(2*delta)
}
