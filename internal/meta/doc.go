// Package meta holds what Weir knows about topics above the storage
// engine: the table of Kafka's topic configs, with their names, types,
// defaults, validation and what each does on Weir.
//
// The storage engine acts on the configs that shape the log (retention,
// compaction, message size, timestamps) and keeps the rest as the topic's
// overrides; this package decides which names and values are valid at all,
// so that a topic accepts exactly the configs a Kafka topic accepts.
package meta
