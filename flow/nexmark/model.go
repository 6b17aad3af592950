package nexmark

// The three kinds of event of the auction site, with the fields of Beam's
// model and the bid's channel and url that Flink's Nexmark added. Times are
// milliseconds since the Unix epoch; prices are in cents. The JSON names are
// the column names of Flink's Nexmark tables.

// Person is a new user of the auction site.
type Person struct {
	// ID identifies the person; ids are given out in order from
	// FirstPersonID.
	ID int64 `json:"id"`
	// Name is a first and a last name.
	Name string `json:"name"`
	// EmailAddress is made up, like "ssmwi@hjsr.com".
	EmailAddress string `json:"emailAddress"`
	// CreditCard is four groups of four digits.
	CreditCard string `json:"creditCard"`
	// City is one of a few cities of the western United States.
	City string `json:"city"`
	// State is the two-letter code of one of six states.
	State string `json:"state"`
	// DateTime is when the person registered: the event time.
	DateTime int64 `json:"dateTime"`
	// Extra pads the event to its configured average size.
	Extra string `json:"extra"`
}

// Auction is an item put up for sale.
type Auction struct {
	// ID identifies the auction; ids are given out in order from
	// FirstAuctionID.
	ID int64 `json:"id"`
	// ItemName is a short random text.
	ItemName string `json:"itemName"`
	// Description is a longer random text.
	Description string `json:"description"`
	// InitialBid is the opening price, in cents.
	InitialBid int64 `json:"initialBid"`
	// Reserve is the lowest price at which the item sells, in cents; it is
	// above InitialBid.
	Reserve int64 `json:"reserve"`
	// DateTime is when the auction opened: the event time.
	DateTime int64 `json:"dateTime"`
	// Expires is when the auction closes: bids at or after it do not count.
	Expires int64 `json:"expires"`
	// Seller is the Person.ID of the seller.
	Seller int64 `json:"seller"`
	// Category is one of NumCategories categories from FirstCategoryID.
	Category int64 `json:"category"`
	// Extra pads the event to its configured average size.
	Extra string `json:"extra"`
}

// Bid is an offer of a price for an auctioned item.
type Bid struct {
	// Auction is the Auction.ID of the item.
	Auction int64 `json:"auction"`
	// Bidder is the Person.ID of the bidder.
	Bidder int64 `json:"bidder"`
	// Price is the offer, in cents.
	Price int64 `json:"price"`
	// Channel is where the bid came from: one of four hot channels
	// ("Google", "Facebook", "Baidu", "Apple") or "channel-<n>".
	Channel string `json:"channel"`
	// URL is the page the bid was made on.
	URL string `json:"url"`
	// DateTime is when the bid was made: the event time.
	DateTime int64 `json:"dateTime"`
	// Extra pads the event to its configured average size.
	Extra string `json:"extra"`
}

// Kind says which of Person, Auction or Bid an Event holds.
type Kind uint8

// The kinds of event. These values are part of the codec's wire format.
const (
	// KindInvalid is the kind of an Event that holds none, or more than one,
	// of Person, Auction and Bid.
	KindInvalid Kind = 0
	// KindPerson is the kind of an Event holding a Person.
	KindPerson Kind = 1
	// KindAuction is the kind of an Event holding an Auction.
	KindAuction Kind = 2
	// KindBid is the kind of an Event holding a Bid.
	KindBid Kind = 3
)

// String returns "person", "auction", "bid" or "invalid".
func (k Kind) String() string {
	switch k {
	case KindPerson:
		return "person"
	case KindAuction:
		return "auction"
	case KindBid:
		return "bid"
	}
	return "invalid"
}

// Event is one event of the stream. Exactly one of its fields is set.
type Event struct {
	// Person is set when a person registered.
	Person *Person `json:"person,omitempty"`
	// Auction is set when an auction opened.
	Auction *Auction `json:"auction,omitempty"`
	// Bid is set when a bid was made.
	Bid *Bid `json:"bid,omitempty"`
}

// Kind says which field of e is set; KindInvalid if not exactly one is.
func (e Event) Kind() Kind {
	switch {
	case e.Person != nil && e.Auction == nil && e.Bid == nil:
		return KindPerson
	case e.Person == nil && e.Auction != nil && e.Bid == nil:
		return KindAuction
	case e.Person == nil && e.Auction == nil && e.Bid != nil:
		return KindBid
	}
	return KindInvalid
}

// Time is e's event time: the DateTime of the person, auction or bid, in
// milliseconds since the Unix epoch; 0 for an invalid event.
func (e Event) Time() int64 {
	switch e.Kind() {
	case KindPerson:
		return e.Person.DateTime
	case KindAuction:
		return e.Auction.DateTime
	case KindBid:
		return e.Bid.DateTime
	}
	return 0
}
