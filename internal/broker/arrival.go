package broker

// dataArrival returns a channel that is closed at the next produce, so
// that long-polling fetches wake when data arrives.
func (b *Broker) dataArrival() <-chan struct{} {
	b.arrival.Lock()
	defer b.arrival.Unlock()
	if b.arrival.ch == nil {
		b.arrival.ch = make(chan struct{})
	}
	return b.arrival.ch
}

// dataArrived wakes the waiting fetches.
func (b *Broker) dataArrived() {
	b.arrival.Lock()
	defer b.arrival.Unlock()
	if b.arrival.ch != nil {
		close(b.arrival.ch)
		b.arrival.ch = nil
	}
}
