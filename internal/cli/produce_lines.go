package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// lineProducer writes one record per input line. Records are produced
// asynchronously (kgo batches them and blocks Produce when its buffer is
// full); the first record that fails stops the reading, and run returns its
// error once the records in flight are done.
type lineProducer struct {
	client *kgo.Client
	topic  string
	s      produceSettings

	// records and bytes count what was acknowledged (bytes: keys and
	// values).
	records, bytes atomic.Int64

	mu struct {
		sync.Mutex
		// failed is the first failure, nil while there is none.
		failed error
	}
}

func newLineProducer(cl *kgo.Client, topic string, s produceSettings) *lineProducer {
	return &lineProducer{client: cl, topic: topic, s: s}
}

var newline = []byte{'\n'}

// lineNumber is the key of a record's input line number in its Context.
type lineNumber struct{}

// run reads lines from in until its end or the first failure, and waits for
// every record produced to be acknowledged or to fail.
func (p *lineProducer) run(ctx context.Context, in io.Reader) error {
	r := bufio.NewReaderSize(in, 64<<10)
	var readErr error
	for line := 1; p.failure() == nil; line++ {
		text, err := r.ReadBytes('\n')
		if err != nil && err != io.EOF {
			readErr = fmt.Errorf("read line %d: %w", line, err)
			break
		}
		if len(text) == 0 {
			break // the end of the input, just after a newline
		}
		text = bytes.TrimSuffix(text, newline)
		p.client.Produce(ctx, p.record(ctx, line, text), p.done)
		if err == io.EOF {
			break
		}
	}
	flushErr := p.client.Flush(ctx)
	if err := p.failure(); err != nil {
		return err
	}
	if readErr != nil {
		return readErr
	}
	if flushErr != nil {
		return fmt.Errorf("produce to topic %s: %w", p.topic, flushErr)
	}
	return nil
}

// record builds the record for one line.
func (p *lineProducer) record(ctx context.Context, line int, text []byte) *kgo.Record {
	r := &kgo.Record{
		Topic:     p.topic,
		Value:     text,
		Headers:   p.s.headers,
		Partition: p.s.partition,
		Context:   context.WithValue(ctx, lineNumber{}, line),
	}
	if p.s.keySeparator != nil {
		if key, value, ok := bytes.Cut(text, p.s.keySeparator); ok {
			r.Key, r.Value = key, value
		}
	}
	return r
}

// done is the promise of every record.
func (p *lineProducer) done(r *kgo.Record, err error) {
	if err == nil {
		p.records.Add(1)
		p.bytes.Add(int64(len(r.Key) + len(r.Value)))
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.failed == nil {
		line, _ := r.Context.Value(lineNumber{}).(int)
		p.mu.failed = &kafkaError{fmt.Sprintf("produce to topic %s: the record of line %d was not written: %s", p.topic, line, describeProduceError(err)), err}
	}
}

func (p *lineProducer) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.failed
}

// describeProduceError says why a record failed.
func describeProduceError(err error) string {
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	return describeError(err, "")
}
