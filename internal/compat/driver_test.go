package compat

import (
	"context"
	"errors"
	"fmt"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
)

// driver drives one Kafka client through the features of the suite. A
// Kafka error that the client reports comes back as an error from which
// kafkaCode extracts the code; any other error means the client failed.
// Methods of features the client lacks are never called (client.lacks).
type driver interface {
	// version describes the client and its version.
	version(ctx context.Context) (string, error)
	// createTopic creates a topic with the client's admin API.
	createTopic(ctx context.Context, topic string, partitions int32, replicas int16, configs map[string]string) error
	// produce writes the records, in order, each to the partition it
	// names, compressed with codec, and returns where each landed.
	produce(ctx context.Context, topic, codec string, records []record) ([]position, error)
	// produceIdempotent is produce with the client's idempotent producer
	// (a producer id from InitProducerId, sequence numbers per
	// partition).
	produceIdempotent(ctx context.Context, topic, codec string, records []record) ([]position, error)
	// produceTransactions runs the client's transactional producer with
	// transactional id id: it initialises it, then runs each transaction
	// in order (produce its records, commit or abort).
	produceTransactions(ctx context.Context, topic, id string, txns []transaction) error
	// transact runs one round of consume-transform-produce (txnRound)
	// and returns the records it consumed.
	transact(ctx context.Context, round txnRound) ([]record, error)
	// fence runs two transactional producers of transactional id id
	// (fencing). It returns the error with which the client failed the
	// first producer once the second had initialised (nil if it did
	// not), and err for anything else that went wrong.
	fence(ctx context.Context, topic, id string, f fencing) (fenced, err error)
	// consume reads len(want) records from the start of partitions
	// 0..partitions-1 of a topic, without a consumer group. Script
	// drivers also check them against want themselves.
	consume(ctx context.Context, topic string, partitions int32, want []record) ([]record, error)
	// consumeCommitted is consume with isolation level read_committed.
	consumeCommitted(ctx context.Context, topic string, partitions int32, want []record) ([]record, error)
	// offsetsForTimes looks up, for each timestamp, the first offset of a
	// partition whose record is at least that recent.
	offsetsForTimes(ctx context.Context, topic string, partition int32, timestamps []int64) ([]int64, error)
	// consumeFrom reads len(want) records of one partition from offset,
	// without resetting the offset when it is out of range.
	consumeFrom(ctx context.Context, topic string, partition int32, offset int64, want []record) ([]record, error)
	// metadata asks for a topic's metadata, allowing auto-creation, and
	// returns its partition count.
	metadata(ctx context.Context, topic string) (int32, error)
	// deleteTopic deletes a topic with the client's admin API.
	deleteTopic(ctx context.Context, topic string) error
	// describeConfigs returns the values of a topic's configs.
	describeConfigs(ctx context.Context, topic string, names []string) (map[string]string, error)
	// alterConfigs sets configs of a topic, by whichever API the client
	// offers (incremental where it has one).
	alterConfigs(ctx context.Context, topic string, configs map[string]string) error
}

// kafkaError is a Kafka error that a client reported, as a script
// describes it.
type kafkaError struct {
	Code    int16  `json:"code"`
	Name    string `json:"name"`
	Message string `json:"message"`
}

func (e *kafkaError) Error() string {
	return fmt.Sprintf("Kafka error %d (%s): %s", e.Code, e.Name, e.Message)
}

// kafkaCode extracts the Kafka error code from an error a client returned,
// whichever client's type it has.
func kafkaCode(err error) (int16, bool) {
	var (
		script *kafkaError
		franz  *kerr.Error
		srm    sarama.KError
		seg    kafka.Error
	)
	switch {
	case errors.As(err, &script):
		return script.Code, true
	case errors.As(err, &franz):
		return franz.Code, true
	case errors.As(err, &srm):
		return int16(srm), true
	case errors.As(err, &seg):
		return int16(seg), true
	}
	return 0, false
}

// errNotSupported is what a driver method returns for a feature its
// client lacks; the suite never calls it (client.lacks says why).
var errNotSupported = errors.New("not supported by this client")
