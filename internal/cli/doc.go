// Package cli holds the client-side commands of the weir binary: topic
// administration (weir topic ...), producing lines of text (weir produce),
// consuming records (weir consume), consumer groups and their offsets (weir
// group ...), transactions and the producers of partitions (weir txn ...,
// weir producer describe), describing the cluster (weir cluster info) and
// resetting a flow application (weir flow reset).
// They talk to any Kafka-compatible cluster through franz-go's kgo and kadm
// clients; nothing here reaches into the broker's internals.
//
// Each command has an exported constructor (NewTopicCommand,
// NewProduceCommand, NewConsumeCommand, NewGroupCommand, NewTxnCommand,
// NewProducerCommand, NewClusterCommand, NewFlowCommand) that cmd/weir registers on its root
// command. Every command carries the same persistent flags (connection.go):
// --brokers/-b (default 127.0.0.1:9092, or $WEIR_BROKERS), --output
// table|json and --timeout.
//
// Exit codes, computed by ExitCode:
//
//	0  success
//	1  the command ran and failed (broker unreachable, unknown topic, a
//	   record not acknowledged, ...)
//	2  usage error: an unknown flag or command, a bad flag value, a wrong
//	   number of arguments
//
// docs/cli.md is the user's reference, with examples.
package cli
