package storage

// Transaction markers: the control batches that end a producer's
// transaction in a partition (Kafka's EndTransactionMarker).
//
// A marker is a control batch (attributes: transactional and control) of
// the producer's id and epoch, holding one control record. These bytes are
// part of the Kafka wire format, and so of the log's; all integers are
// big-endian:
//
//	key    0  int16  version (0; a later version is read as 0, as Kafka does)
//	       2  int16  type: 0 abort, 1 commit (Kafka's ControlRecordType)
//	value  0  int16  version (0; a later version is read as 0)
//	       2  int32  coordinator epoch
//
// Anything else (no key or value, short ones, a negative version, another
// type, more or fewer than one record) is not a marker: an append refuses
// it with ErrCorruptMessage, and a replay never finds one (the append
// validated it), but would skip it rather than stop.

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
)

// Control record types of markers (Kafka's ControlRecordType). Part of the
// wire format.
const (
	controlAbort  = 0
	controlCommit = 1
)

// maxMarkerBytes bounds what decoding a control batch's records may
// inflate to: a marker's record is a few bytes.
const maxMarkerBytes = 64 << 10

// errMarker marks a control batch that is not a valid transaction marker.
var errMarker = errors.New("malformed transaction marker")

// txnMarker is a decoded transaction marker.
type txnMarker struct {
	commit           bool
	coordinatorEpoch int32
}

// decodeMarker decodes a control record's key and value.
func decodeMarker(key, value []byte) (txnMarker, error) {
	if len(key) < 4 {
		return txnMarker{}, fmt.Errorf("%w: control record key of %d bytes", errMarker, len(key))
	}
	if v := int16(binary.BigEndian.Uint16(key)); v < 0 {
		return txnMarker{}, fmt.Errorf("%w: control record key version %d", errMarker, v)
	}
	var m txnMarker
	switch t := int16(binary.BigEndian.Uint16(key[2:])); t {
	case controlAbort:
	case controlCommit:
		m.commit = true
	default:
		return txnMarker{}, fmt.Errorf("%w: control record type %d", errMarker, t)
	}
	if len(value) < 6 {
		return txnMarker{}, fmt.Errorf("%w: marker value of %d bytes", errMarker, len(value))
	}
	if v := int16(binary.BigEndian.Uint16(value)); v < 0 {
		return txnMarker{}, fmt.Errorf("%w: marker value version %d", errMarker, v)
	}
	m.coordinatorEpoch = int32(binary.BigEndian.Uint32(value[2:]))
	return m, nil
}

// markerOf validates a control batch and decodes its marker.
func markerOf(batch []byte) (txnMarker, error) {
	h, records, err := recordbatch.Records(batch, maxMarkerBytes)
	if err != nil {
		return txnMarker{}, fmt.Errorf("%w: %v", errMarker, err)
	}
	if !h.Control() {
		return txnMarker{}, fmt.Errorf("%w: not a control batch", errMarker)
	}
	if len(records) != 1 {
		return txnMarker{}, fmt.Errorf("%w: control batch of %d records", errMarker, len(records))
	}
	return decodeMarker(records[0].Key, records[0].Value)
}

// NewMarkerBatch builds the transaction marker a transaction coordinator
// writes to each partition of a transaction (WriteTxnMarkers): a control
// batch of the producer, commit or abort, stamped with timestamp (ms).
// Append assigns its offset.
func NewMarkerBatch(producerID int64, epoch int16, commit bool, coordinatorEpoch int32, timestamp int64) ([]byte, error) {
	key := []byte{0, 0, 0, controlAbort}
	if commit {
		key[3] = controlCommit
	}
	value := binary.BigEndian.AppendUint32([]byte{0, 0}, uint32(coordinatorEpoch))
	r := kmsg.NewRecord()
	r.Key, r.Value = key, value
	h := recordbatch.Header{
		PartitionLeaderEpoch: -1, Magic: 2, Attributes: transactionalControl,
		BaseTimestamp: timestamp, MaxTimestamp: timestamp,
		ProducerID: producerID, ProducerEpoch: epoch, BaseSequence: -1,
	}
	return recordbatch.Build(h, []kmsg.Record{r})
}

// transactionalControl are the attributes of a marker batch: the
// transactional (0x10) and control (0x20) bits. Part of the wire format.
const transactionalControl = 0x10 | 0x20
