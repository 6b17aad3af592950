// Package recordbatch reads, checks and writes Kafka v2 record batches
// (magic 2), the unit in which Weir receives, stores and serves records.
//
// Weir keeps batches exactly as the protocol carries them: a produce request's
// batch is validated, given its base offset (and, on LogAppendTime topics, its
// timestamp) in place, and written to the log byte for byte; a fetch serves
// the same bytes. Only log compaction and timestamp lookups look inside a
// batch, through Records, and only Build writes a new one.
//
// # Layout
//
// A batch is a fixed 61-byte header followed by the records section. All
// integers are big-endian; these offsets are part of the wire format:
//
//	offset size field
//	     0    8 baseOffset            int64, offset of the first record
//	     8    4 batchLength           int32, bytes that follow this field (len-12)
//	    12    4 partitionLeaderEpoch  int32
//	    16    1 magic                 int8, always 2 here
//	    17    4 crc                   uint32, CRC-32C (Castagnoli) of bytes 21..end
//	    21    2 attributes            int16, see below
//	    23    4 lastOffsetDelta       int32, lastOffset - baseOffset
//	    27    8 baseTimestamp         int64, ms; first record's timestamp
//	    35    8 maxTimestamp          int64, ms; largest record timestamp
//	    43    8 producerId            int64, -1 when not idempotent
//	    51    2 producerEpoch         int16
//	    53    4 baseSequence          int32, sequence of the first record
//	    57    4 recordCount           int32
//	    61    - records               recordCount records, compressed as a whole
//
// The CRC does not cover baseOffset, batchLength or partitionLeaderEpoch, so
// the broker can assign offsets and epochs without recomputing it
// (SetBaseOffset). The magic byte sits at offset 16 in every message format,
// which is how older formats are told apart (ErrMagic).
//
// Attribute bits:
//
//	bits 0-2  compression codec: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
//	bit  3    timestamp type: 0 CreateTime, 1 LogAppendTime
//	bit  4    transactional
//	bit  5    control batch (transaction markers)
//	bit  6    baseTimestamp holds the delete horizon (KIP-534, compaction)
//
// Each record is length-prefixed with a zigzag varint and holds attributes
// (int8), timestampDelta (varlong), offsetDelta (varint), key and value
// (varint length, -1 for null) and headers. Records are encoded and decoded
// by franz-go's kmsg.Record and the batch by kmsg.RecordBatch; this package
// only writes fixed header fields in place and the xerial snappy framing.
//
// # Compression
//
// When the codec bits are not zero, the records section is one compressed
// stream holding the concatenated records: gzip, snappy (the xerial framing
// the Java client writes, or a raw snappy block, on input; xerial on output),
// an LZ4 frame, or a zstd frame. Decompression is bounded by a caller-given
// limit, so a small batch cannot expand into unbounded memory (ErrTooLarge).
//
// # Untrusted input
//
// Every function that reads bytes (ReadHeader, Validate, Split, Records,
// OffsetForTimestamp, OffsetOfMaxTimestamp) accepts arbitrary input without
// panicking and reports problems as errors wrapping ErrCorrupt, ErrMagic or
// ErrTooLarge. The in-place setters require a batch that Validate accepted.
package recordbatch
