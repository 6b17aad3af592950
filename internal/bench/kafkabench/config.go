package kafkabench

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Acks values, as Config.Acks takes them.
const (
	AcksAll    = "all"
	AcksLeader = "1"
	AcksNone   = "0"
)

// From values, as Config.From takes them.
const (
	FromEarliest = "earliest"
	FromLatest   = "latest"
)

// Compressions lists the codecs Config.Compression takes.
var Compressions = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// Config configures a workload. DefaultConfig gives the defaults of the
// commands; each workload reads the fields that concern it.
type Config struct {
	// Brokers are the seed brokers, host:port.
	Brokers []string `json:"brokers"`
	// Topic is the topic written and read. Produce and e2e create it with
	// Partitions partitions and ReplicationFactor replicas (-1: the
	// broker's default) when it does not exist; an existing topic is used
	// as it is.
	Topic             string `json:"topic"`
	Partitions        int32  `json:"partitions"`
	ReplicationFactor int16  `json:"replication_factor"`

	// RecordSize is the value size of every record produced.
	RecordSize int `json:"record_size"`
	// Producers and Consumers are how many clients produce and consume,
	// each a kgo.Client of its own.
	Producers int `json:"producers"`
	Consumers int `json:"consumers"`
	// Acks is all, 1 or 0. With all, the producer is idempotent (as
	// Kafka's producer is by default) unless Idempotent is false; an
	// idempotent franz-go producer keeps at most 5 requests in flight per
	// broker, so MaxInflight must then be 5.
	Acks       string `json:"acks"`
	Idempotent bool   `json:"idempotent"`
	// Compression is the producers' codec: none, gzip, snappy, lz4, zstd.
	Compression string `json:"compression"`
	// Rate is the target of records per second over all producers; 0 is
	// as fast as possible.
	Rate float64 `json:"rate"`
	// Duration, Records and Bytes stop a run, whichever comes first (0:
	// no such limit). Records is records sent by the producers in produce
	// and e2e, records read in consume; Bytes applies to consume only.
	Duration time.Duration `json:"duration_ns"`
	Records  int64         `json:"records"`
	Bytes    int64         `json:"bytes"`
	// Linger, BatchMaxBytes and MaxInflight are the producers'
	// linger.ms, batch.size (franz-go's ProducerBatchMaxBytes) and
	// max.in.flight.requests.per.connection.
	Linger        time.Duration `json:"linger_ns"`
	BatchMaxBytes int32         `json:"batch_max_bytes"`
	MaxInflight   int           `json:"max_inflight"`
	// BufferedRecords is each producer's pool of records: the most it has
	// buffered in its client or in flight at once.
	BufferedRecords int `json:"buffered_records"`
	// DeliveryTimeout fails a record not acknowledged this long after it
	// was produced (delivery.timeout.ms); it also bounds the final flush.
	DeliveryTimeout time.Duration `json:"delivery_timeout_ns"`

	// From is where consume starts: earliest or latest. Follow keeps
	// consuming past the end offsets the run began with (latest implies
	// it); without it consume stops there.
	From   string `json:"from"`
	Follow bool   `json:"follow"`
	// FetchMaxBytes and FetchMaxPartitionBytes are the consumers'
	// fetch.max.bytes and max.partition.fetch.bytes.
	FetchMaxBytes          int32 `json:"fetch_max_bytes"`
	FetchMaxPartitionBytes int32 `json:"fetch_max_partition_bytes"`
	// DrainTimeout bounds how long e2e's consumers may take, once the
	// producers are done, to read the last records.
	DrainTimeout time.Duration `json:"drain_timeout_ns"`

	// Progress, when not nil, receives a line every ProgressInterval.
	Progress         io.Writer     `json:"-"`
	ProgressInterval time.Duration `json:"-"`
}

// DefaultConfig returns the defaults of the commands.
func DefaultConfig() Config {
	return Config{
		Brokers:                []string{"127.0.0.1:9092"},
		Topic:                  "weir-bench",
		Partitions:             16,
		ReplicationFactor:      -1,
		RecordSize:             1024,
		Producers:              4,
		Consumers:              4,
		Acks:                   AcksAll,
		Idempotent:             true,
		Compression:            "none",
		Duration:               30 * time.Second,
		Linger:                 10 * time.Millisecond,
		BatchMaxBytes:          1_000_012,
		MaxInflight:            5,
		BufferedRecords:        10_000,
		DeliveryTimeout:        30 * time.Second,
		From:                   FromEarliest,
		FetchMaxBytes:          50 << 20,
		FetchMaxPartitionBytes: 1 << 20,
		DrainTimeout:           30 * time.Second,
		ProgressInterval:       time.Second,
	}
}

// idempotent reports whether producers are idempotent: acks=all and
// Idempotent.
func (c Config) idempotent() bool { return c.Acks == AcksAll && c.Idempotent }

func (c Config) validateCommon() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("no brokers")
	case c.Topic == "":
		return errors.New("no topic")
	case c.Duration < 0 || c.Records < 0 || c.Bytes < 0:
		return errors.New("duration, records and bytes must not be negative")
	}
	return nil
}

func (c Config) validateProduce() error {
	if err := c.validateCommon(); err != nil {
		return err
	}
	switch {
	case c.Partitions < 1:
		return fmt.Errorf("partitions %d: want at least 1", c.Partitions)
	case c.RecordSize < 0:
		return fmt.Errorf("record size %d: want at least 0", c.RecordSize)
	case c.Producers < 1:
		return fmt.Errorf("producers %d: want at least 1", c.Producers)
	case c.Acks != AcksAll && c.Acks != AcksLeader && c.Acks != AcksNone:
		return fmt.Errorf("acks %q: want all, 1 or 0", c.Acks)
	case c.Rate < 0:
		return fmt.Errorf("rate %v: want 0 (unlimited) or more", c.Rate)
	case c.Duration == 0 && c.Records == 0:
		return errors.New("no stop condition: give a duration or a number of records")
	case c.MaxInflight < 1 || c.BufferedRecords < 1:
		return errors.New("max inflight and buffered records must be at least 1")
	case c.idempotent() && c.MaxInflight != 5:
		return fmt.Errorf("max inflight %d: an idempotent producer (acks=all) keeps at most 5 requests in flight; turn idempotence off to choose", c.MaxInflight)
	case c.BatchMaxBytes < 512:
		return fmt.Errorf("batch max bytes %d: want at least 512", c.BatchMaxBytes)
	case c.DeliveryTimeout <= 0:
		return fmt.Errorf("delivery timeout %v: want positive", c.DeliveryTimeout)
	}
	if _, err := codec(c.Compression); err != nil {
		return err
	}
	return nil
}

func (c Config) validateConsume() error {
	if err := c.validateCommon(); err != nil {
		return err
	}
	switch {
	case c.Consumers < 1:
		return fmt.Errorf("consumers %d: want at least 1", c.Consumers)
	case c.From != FromEarliest && c.From != FromLatest:
		return fmt.Errorf("from %q: want earliest or latest", c.From)
	case c.FetchMaxBytes < 1 || c.FetchMaxPartitionBytes < 1:
		return errors.New("fetch sizes must be positive")
	}
	return nil
}

func (c Config) validateE2E() error {
	if err := c.validateProduce(); err != nil {
		return err
	}
	if err := c.validateConsume(); err != nil {
		return err
	}
	switch {
	case c.RecordSize < stampSize:
		return fmt.Errorf("record size %d: e2e needs at least %d bytes for the timestamp", c.RecordSize, stampSize)
	case c.DrainTimeout <= 0:
		return fmt.Errorf("drain timeout %v: want positive", c.DrainTimeout)
	}
	return nil
}
