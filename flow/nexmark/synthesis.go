package nexmark

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"sync"
)

// How one event is made from its number. Everything here is a function of
// the config and the event number: no state carries from one event to the
// next.

// Event returns event number n (from 0) of g's configuration: the same
// event whichever generator, split or position makes it. It does not
// consult or move g's position, and ignores NumEvents. It panics if n is
// negative.
func (g *Generator) Event(n int64) Event {
	if n < 0 {
		panic(fmt.Sprintf("nexmark: Event(%d): event numbers start at 0", n))
	}
	c := &g.config
	id := c.FirstEventID + n
	t := g.EventTime(n)
	r := newRandom(c.Seed, id)
	switch c.kindOf(id) {
	case KindPerson:
		return Event{Person: c.person(id, t, &r)}
	case KindAuction:
		return Event{Auction: g.auction(id, n, t, &r)}
	}
	return Event{Bid: c.bid(id, t, &r)}
}

// EventTime returns the event time of event number n (n >= 0), in
// milliseconds since the Unix epoch: FirstEventTime + n*InterEventDelay,
// rounded down to the millisecond.
func (g *Generator) EventTime(n int64) int64 {
	hi, lo := bits.Mul64(uint64(n), uint64(g.config.InterEventDelay))
	if hi >= 1e6 {
		return maxTime // some 292 million years on
	}
	ms, _ := bits.Div64(hi, lo, 1e6)
	t := g.config.FirstEventTime + int64(ms)
	if ms > maxTime || (g.config.FirstEventTime > 0 && t < 0) {
		return maxTime
	}
	return t
}

// maxTime is the greatest event time.
const maxTime = 1<<63 - 1

// The values of a person's city, state and name, few so that queries find
// matches (Beam's lists).
var (
	cities     = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	states     = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	firstNames = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames  = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
)

// person makes the person of event id at time t.
func (c *GeneratorConfig) person(id, t int64, r *random) *Person {
	var b strings.Builder
	b.Grow(64 + int(c.AvgPersonSize))
	b.WriteString(firstNames[r.intn(int64(len(firstNames)))])
	b.WriteByte(' ')
	b.WriteString(lastNames[r.intn(int64(len(lastNames)))])
	nameEnd := b.Len()
	r.appendText(&b, 7, ' ')
	b.WriteByte('@')
	r.appendText(&b, 5, ' ')
	b.WriteString(".com")
	emailEnd := b.Len()
	for i := range 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		digits := r.intn(10000)
		b.WriteByte(byte('0' + digits/1000))
		b.WriteByte(byte('0' + digits/100%10))
		b.WriteByte(byte('0' + digits/10%10))
		b.WriteByte(byte('0' + digits%10))
	}
	cardEnd := b.Len()
	city := cities[r.intn(int64(len(cities)))]
	state := states[r.intn(int64(len(states)))]
	size := int64(8 + cardEnd + len(city) + len(state))
	r.appendLetters(&b, r.extraLength(size, c.AvgPersonSize))
	text := b.String()
	return &Person{
		ID:           c.lastPerson(id) + FirstPersonID,
		Name:         text[:nameEnd],
		EmailAddress: text[nameEnd:emailEnd],
		CreditCard:   text[emailEnd:cardEnd],
		City:         city,
		State:        state,
		DateTime:     t,
		Extra:        text[cardEnd:],
	}
}

// auction makes the auction of event id, number n, at time t.
func (g *Generator) auction(id, n, t int64, r *random) *Auction {
	c := &g.config
	seller := c.hotSeller(id)
	if r.intn(c.HotSellersRatio) == 0 {
		seller = c.randomPerson(id, r)
	}
	category := FirstCategoryID + r.intn(NumCategories)
	initialBid := r.price()
	expires := t + g.auctionLength(n, t, r)
	var b strings.Builder
	b.Grow(128 + int(c.AvgAuctionSize))
	r.appendText(&b, 20, ' ')
	nameEnd := b.Len()
	r.appendText(&b, 100, ' ')
	descriptionEnd := b.Len()
	reserve := initialBid + r.price()
	size := int64(8 + descriptionEnd + 5*8)
	r.appendLetters(&b, r.extraLength(size, c.AvgAuctionSize))
	text := b.String()
	return &Auction{
		ID:          c.lastAuction(id) + FirstAuctionID,
		ItemName:    text[:nameEnd],
		Description: text[nameEnd:descriptionEnd],
		InitialBid:  initialBid,
		Reserve:     reserve,
		DateTime:    t,
		Expires:     expires,
		Seller:      seller + FirstPersonID,
		Category:    category,
		Extra:       text[descriptionEnd:],
	}
}

// auctionLength draws how long the auction of event number n, opened at t,
// lasts, in milliseconds: at least 1, on average the event time it takes
// NumInFlightAuctions more auctions to open.
func (g *Generator) auctionLength(n, t int64, r *random) int64 {
	c := &g.config
	eventsForAuctions := c.NumInFlightAuctions * c.totalProportion() / c.AuctionProportion
	horizon := g.EventTime(n+eventsForAuctions) - t
	return 1 + r.intn(max(2*horizon, 1))
}

// bid makes the bid of event id at time t.
func (c *GeneratorConfig) bid(id, t int64, r *random) *Bid {
	auction := c.hotAuction(id)
	if r.intn(c.HotAuctionRatio) == 0 {
		auction = c.randomAuction(id, r)
	}
	bidder := c.hotBidder(id)
	if r.intn(c.HotBiddersRatio) == 0 {
		bidder = c.randomPerson(id, r)
	}
	price := r.price()
	var channel, url string
	table := channelTable()
	if r.intn(2) == 0 {
		n := r.intn(numChannels)
		channel, url = table.names[n], table.urls[n]
	} else {
		n := r.intn(int64(len(hotChannels)))
		channel, url = hotChannels[n], table.hotURLs[n]
	}
	var b strings.Builder
	extra := r.extraLength(4*8, c.AvgBidSize)
	b.Grow(int(extra))
	r.appendLetters(&b, extra)
	return &Bid{
		Auction:  auction + FirstAuctionID,
		Bidder:   bidder + FirstPersonID,
		Price:    price,
		Channel:  channel,
		URL:      url,
		DateTime: t,
		Extra:    b.String(),
	}
}

// The channels of bids, as Flink's generator makes them: half the bids
// come from one of four hot channels, the others from one of numChannels
// numbered ones.
const numChannels = 10_000

var hotChannels = []string{"Google", "Facebook", "Baidu", "Apple"}

// channels holds the names and urls of the channels.
type channels struct {
	names   []string // "channel-<n>", numChannels of them
	urls    []string // the url of each numbered channel
	hotURLs []string // the url of each hot channel
}

// channelTable returns the channels, made once for the process from a
// fixed seed (Flink draws the urls afresh in each process).
var channelTable = sync.OnceValue(func() *channels {
	r := newRandom(0x6e65786d61726b, 0)
	t := &channels{}
	for range hotChannels {
		t.hotURLs = append(t.hotURLs, channelURL(&r))
	}
	for n := range numChannels {
		t.names = append(t.names, "channel-"+strconv.Itoa(n))
		url := channelURL(&r)
		if r.intn(10) > 0 {
			id := int64(int32(bits.Reverse32(uint32(n))))
			url += "&channel_id=" + strconv.FormatInt(max(id, -id), 10)
		}
		t.urls = append(t.urls, url)
	}
	return t
})

// channelURL draws a channel's url: an item page under three random path
// segments.
func channelURL(r *random) string {
	var b strings.Builder
	b.WriteString("https://www.nexmark.com/")
	for range 3 {
		r.appendText(&b, 5, '_')
		b.WriteByte('/')
	}
	b.WriteString("item.htm?query=1")
	return b.String()
}
