package nexmark

// The id arithmetic of Beam's generator. Event ids run in cycles of
// totalProportion: the first PersonProportion ids of a cycle are people, the
// next AuctionProportion auctions, the rest bids. So the id of every person
// and auction follows from the event id alone, with no state, which is what
// lets generators split the work. Person and auction ids below are "base 0":
// FirstPersonID and FirstAuctionID are added last.

// kindOf is the kind of event that event id makes.
func (c *GeneratorConfig) kindOf(eventID int64) Kind {
	offset := eventID % c.totalProportion()
	switch {
	case offset < c.PersonProportion:
		return KindPerson
	case offset < c.PersonProportion+c.AuctionProportion:
		return KindAuction
	}
	return KindBid
}

// lastPerson is the base-0 id of the newest person at event id: the person
// it makes if it makes one. It is -1 before the first person.
func (c *GeneratorConfig) lastPerson(eventID int64) int64 {
	cycle, offset := eventID/c.totalProportion(), eventID%c.totalProportion()
	if offset >= c.PersonProportion {
		// An auction or a bid: the last person is the cycle's last.
		offset = c.PersonProportion - 1
	}
	return cycle*c.PersonProportion + offset
}

// lastAuction is the base-0 id of the newest auction at event id: the
// auction it makes if it makes one. It is -1 before the first auction.
func (c *GeneratorConfig) lastAuction(eventID int64) int64 {
	cycle, offset := eventID/c.totalProportion(), eventID%c.totalProportion()
	switch {
	case offset < c.PersonProportion:
		// A person: the last auction is the previous cycle's last.
		cycle--
		offset = c.AuctionProportion - 1
	case offset < c.PersonProportion+c.AuctionProportion:
		offset -= c.PersonProportion
	default:
		// A bid: the last auction is this cycle's last.
		offset = c.AuctionProportion - 1
	}
	return cycle*c.AuctionProportion + offset
}

// randomPerson draws a base-0 person id among the NumActivePeople newest
// people at event id and the PersonIDLead next ones.
func (c *GeneratorConfig) randomPerson(eventID int64, r *random) int64 {
	people := c.lastPerson(eventID) + 1
	active := min(people, c.NumActivePeople)
	return people - active + r.intn(active+PersonIDLead)
}

// randomAuction draws a base-0 auction id among the NumInFlightAuctions
// auctions before the newest at event id, the newest, and the
// AuctionIDLead next ones.
func (c *GeneratorConfig) randomAuction(eventID int64, r *random) int64 {
	newest := c.lastAuction(eventID)
	oldest := max(newest-c.NumInFlightAuctions, 0)
	return oldest + r.intn(newest-oldest+1+AuctionIDLead)
}

// hotSeller is the base-0 id of the hot seller at event id: the first of
// the newest batch of HotBatch people.
func (c *GeneratorConfig) hotSeller(eventID int64) int64 {
	return c.lastPerson(eventID) / HotBatch * HotBatch
}

// hotBidder is the base-0 id of the hot bidder at event id: the second of
// the newest batch of HotBatch people, so not a hot seller. While that batch
// holds one person, the hot bidder has yet to register.
func (c *GeneratorConfig) hotBidder(eventID int64) int64 {
	return c.lastPerson(eventID)/HotBatch*HotBatch + 1
}

// hotAuction is the base-0 id of the hot auction at event id: the first of
// the newest batch of HotBatch auctions.
func (c *GeneratorConfig) hotAuction(eventID int64) int64 {
	return c.lastAuction(eventID) / HotBatch * HotBatch
}
