// Package broker serves the Kafka wire protocol on top of the storage
// engine.
//
// One goroutine per connection reads frames (a 4-byte size, then the
// request), parses the request header (header.go) and hands the request to
// the handler of its API key (one file per API family, named after the key,
// each opening with the versions it serves). Handlers run concurrently and
// may finish out of order (a produce waits for its fsync, a fetch
// long-polls); a second goroutine per connection writes the responses in
// request order, as the protocol requires (conn.go). ApiVersions
// advertises exactly the versions of the registered handlers (handlers.go).
//
// Handlers put protocol errors in their responses; a Go error from a
// handler, a malformed frame or an unsupported version closes the
// connection with one log line.
package broker
