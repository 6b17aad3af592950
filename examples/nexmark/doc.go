// Package nexmark runs the Nexmark benchmark's queries as flow
// topologies: each reads the events of an online auction site (people,
// auctions, bids) from a topic, in flow/nexmark's binary encoding, and
// writes the query's rows to another topic. flow/nexmark generates the
// events and computes reference answers; the tests run every query in
// flow's test driver over generated events, in order and out of order,
// and compare its output with the reference answer over the same events,
// then end the input (as a batch run does) and compare the output with the
// reference answer at the end of input, every window closed.
//
// One function per query builds its topology from a Config (the topics
// and the grace for out-of-order events): Q0 to Q8. Queries lists them
// with what it takes to check them: how to read their output (Rows) and
// what it must be (Expected while running, ExpectedAtEnd once the input
// has ended). The rows' encodings are in codec.go.
//
// The command in cmd/nexmark generates events into a topic, runs a query
// against brokers with exactly-once processing, and benchmarks a query
// end to end against a Weir broker it starts; see its documentation, and
// docs/benchmarks.md for the figures.
//
//	go test ./examples/nexmark/                       # the checks
//	go test -run '^$' -bench . ./examples/nexmark/    # events/s in the test driver
package nexmark
