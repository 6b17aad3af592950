// Package flow is Weir's stream-processing library: a program imports it,
// builds a topology of typed operators over Kafka topics, and runs it;
// more instances with the same application id share the work through a
// consumer group, as with Kafka Streams. It talks to brokers through
// franz-go, so it runs against Weir, Apache Kafka or Redpanda alike.
package flow
