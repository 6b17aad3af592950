// Package flow is Weir's stream-processing library: a program imports it,
// builds a topology of typed operators over Kafka topics, and runs it;
// more instances with the same application id share the work through a
// consumer group, as with Kafka Streams. It talks to brokers through
// franz-go, so it runs against Weir, Apache Kafka or Redpanda alike.
//
// An application runs until its context ends, or, in batch mode
// (Config.Batch), over a bounded range of its input: Run returns once the
// range is processed and every window, join buffer and event-time timer
// flushed (batch.go, docs/flow.md).
package flow
