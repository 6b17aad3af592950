package recordbatch

import (
	"encoding/binary"
	"hash/crc32"
)

// SetBaseOffset overwrites the base offset of batch b in place, as the broker
// does when it appends a produced batch to the log. The field is not covered
// by the CRC. REQUIRES: len(b) >= HeaderSize.
func SetBaseOffset(b []byte, offset int64) {
	binary.BigEndian.PutUint64(b[baseOffsetOffset:], uint64(offset))
}

// SetPartitionLeaderEpoch sets batch b's partition leader epoch, in place.
// The CRC does not cover it, so it stays valid.
func SetPartitionLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[leaderEpochOffset:], uint32(epoch))
}

// SetLogAppendTime marks batch b as timestamped by the broker at ts, in
// place, as Kafka does for topics with message.timestamp.type=LogAppendTime:
// it sets the timestamp-type bit, sets MaxTimestamp to ts and recomputes the
// CRC. BaseTimestamp and the records' timestamp deltas are left as the
// producer wrote them, as Kafka's in-place path (DefaultRecordBatch.
// setMaxTimestamp) does; readers take MaxTimestamp as every record's
// timestamp in such a batch (Header.TimestampOf), so they do not matter.
// REQUIRES: Validate(b) succeeded.
func SetLogAppendTime(b []byte, ts int64) {
	attributes := binary.BigEndian.Uint16(b[attributesOffset:])
	binary.BigEndian.PutUint16(b[attributesOffset:], attributes|logAppendTimeFlag)
	binary.BigEndian.PutUint64(b[maxTimestampOffset:], uint64(ts))
	putCRC(b)
}

// putCRC computes the CRC of the batch at the start of b from its length
// field and writes it in place. REQUIRES: b holds the whole batch.
func putCRC(b []byte) {
	end := lengthFieldEnd + int(binary.BigEndian.Uint32(b[lengthOffset:]))
	sum := crc32.Checksum(b[attributesOffset:end], castagnoli)
	binary.BigEndian.PutUint32(b[crcOffset:], sum)
}
