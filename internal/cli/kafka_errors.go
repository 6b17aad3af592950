package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// kafkaError is an error from the cluster said in words for the command's
// user. It unwraps to the underlying error (a *kerr.Error, a net error, ...)
// so callers and tests can still match it.
type kafkaError struct {
	text string
	err  error
}

func (e *kafkaError) Error() string { return e.text }
func (e *kafkaError) Unwrap() error { return e.err }

// topicError describes the error a request about one topic returned.
// action names the request ("create", "delete", ...); message is the
// broker's own error message, if it sent one.
func topicError(action, topic string, err error, message string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return &kafkaError{fmt.Sprintf("topic %s does not exist", topic), err}
	case errors.Is(err, kerr.TopicAlreadyExists):
		return &kafkaError{fmt.Sprintf("topic %s already exists", topic), err}
	}
	return &kafkaError{fmt.Sprintf("%s topic %s: %s", action, topic, describeError(err, message)), err}
}

// describeError says what went wrong: the broker's message when it sent
// one, else the Kafka error's description, with the error code's name.
func describeError(err error, message string) string {
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return err.Error()
	}
	if message != "" {
		return fmt.Sprintf("%s (%s)", message, ke.Message)
	}
	return fmt.Sprintf("%s (%s)", ke.Description, ke.Message)
}

// reachError is the error for a cluster that did not answer the first
// request: no connection, no name resolution, or no answer within the
// timeout.
func reachError(brokers string, timeout time.Duration, err error) error {
	var netErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return &kafkaError{fmt.Sprintf("cannot reach broker at %s: no answer within %v", brokers, timeout), err}
	case errors.As(err, &netErr):
		return &kafkaError{fmt.Sprintf("cannot reach broker at %s: %v", brokers, netErr), err}
	case errors.As(err, &dnsErr):
		return &kafkaError{fmt.Sprintf("cannot reach broker at %s: %v", brokers, dnsErr), err}
	}
	return &kafkaError{fmt.Sprintf("cannot reach broker at %s: %v", brokers, err), err}
}

// groupError describes the error a request about one consumer group
// returned. action names the request ("describe", "delete", ...); message
// is the broker's own error message, if it sent one.
func groupError(action, group string, err error, message string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.GroupIDNotFound):
		return &kafkaError{fmt.Sprintf("group %s does not exist", group), err}
	case errors.Is(err, kerr.NonEmptyGroup):
		return &kafkaError{fmt.Sprintf("%s group %s: the group has active members; stop its consumers first (%s)", action, group, kerr.NonEmptyGroup.Message), err}
	}
	return &kafkaError{fmt.Sprintf("%s group %s: %s", action, group, describeError(err, message)), err}
}

// errorName is a Kafka error's name (UNKNOWN_TOPIC_OR_PARTITION), or the
// text of any other error.
func errorName(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	return err.Error()
}
