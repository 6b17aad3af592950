package compat

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// errorCase is a bad request, and the Kafka error the client must report.
type errorCase struct {
	name string
	want *kerr.Error
	// setup prepares the broker with franz-go (nil: nothing to prepare).
	setup func(ctx context.Context, e *env, topic string) error
	// provoke has the client make the request and returns what the client
	// reported.
	provoke func(ctx context.Context, d driver, topic string) error
}

var errorCases = []errorCase{
	{"create-existing", kerr.TopicAlreadyExists,
		func(ctx context.Context, e *env, topic string) error { return e.createTopic(ctx, topic, 1, nil) },
		func(ctx context.Context, d driver, topic string) error { return d.createTopic(ctx, topic, 1, 1, nil) }},
	{"create-invalid-name", kerr.InvalidTopicException, nil,
		func(ctx context.Context, d driver, topic string) error {
			return d.createTopic(ctx, topic+"!", 1, 1, nil)
		}},
	{"create-replication-factor", kerr.InvalidReplicationFactor, nil,
		func(ctx context.Context, d driver, topic string) error { return d.createTopic(ctx, topic, 1, 3, nil) }},
	{"create-invalid-config", kerr.InvalidConfig, nil,
		func(ctx context.Context, d driver, topic string) error {
			return d.createTopic(ctx, topic, 1, 1, map[string]string{"retention.ms": "soon"})
		}},
	{"produce-invalid-topic", kerr.InvalidTopicException, nil,
		func(ctx context.Context, d driver, topic string) error {
			r := record{Key: []byte("key"), Value: []byte("value"), Headers: []header{}, Timestamp: time.Now().UnixMilli()}
			_, err := d.produce(ctx, topic+"!", "none", []record{r})
			return err
		}},
	{"delete-unknown", kerr.UnknownTopicOrPartition, nil,
		func(ctx context.Context, d driver, topic string) error { return d.deleteTopic(ctx, topic) }},
	{"produce-too-large", kerr.MessageTooLarge,
		func(ctx context.Context, e *env, topic string) error {
			return e.createTopic(ctx, topic, 1, map[string]string{"max.message.bytes": "4096"})
		},
		func(ctx context.Context, d driver, topic string) error {
			// 16 KiB that no codec shrinks, well under every client's
			// own limit.
			value := make([]byte, 0, 16<<10)
			for i := 0; len(value) < 16<<10; i++ {
				value = append(value, recordValue("large", i)[:16]...)
			}
			r := record{Key: []byte("large"), Value: value, Headers: []header{}, Timestamp: time.Now().UnixMilli()}
			_, err := d.produce(ctx, topic, "none", []record{r})
			return err
		}},
	{"fetch-out-of-range", kerr.OffsetOutOfRange,
		func(ctx context.Context, e *env, topic string) error {
			if err := e.createTopic(ctx, topic, 1, nil); err != nil {
				return err
			}
			return e.produce(ctx, topic, "none", dataSet("range", 1, base())[:3])
		},
		func(ctx context.Context, d driver, topic string) error {
			_, err := d.consumeFrom(ctx, topic, 0, 1000, dataSet("range", 1, base())[:1])
			return err
		}},
}

// feature runs the case: the client must report exactly the wanted
// error.
func (ec errorCase) feature(ctx context.Context, e *env, c *client, d driver, topic string) error {
	if ec.setup != nil {
		if err := ec.setup(ctx, e, topic); err != nil {
			return fmt.Errorf("setup: %v", err) // %v: the setup's Kafka error is not the client's
		}
	}
	err := ec.provoke(ctx, d, topic)
	if err == nil {
		return fmt.Errorf("the client reported no error, want %s (%d)", ec.want.Message, ec.want.Code)
	}
	code, ok := kafkaCode(err)
	if !ok {
		return fmt.Errorf("the client reported an error without a Kafka error code, want %s (%d): %w", ec.want.Message, ec.want.Code, err)
	}
	if code != ec.want.Code {
		return fmt.Errorf("the client reported Kafka error %d, want %s (%d): %w", code, ec.want.Message, ec.want.Code, err)
	}
	return nil
}
