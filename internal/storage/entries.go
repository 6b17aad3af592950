package storage

// Commit log entry kinds and payloads (on-disk format version 1).
//
// These values are part of the on-disk format; docs/storage.md describes the
// same bytes. All integers are big-endian. The entry header (length, CRC,
// kind, partition id) is defined in internal/storage/commitlog/format.go.
//
//	kind 1  data       partition = partition id
//	        0  int64  append time (ms since the Unix epoch, broker clock)
//	        8  bytes  one Kafka v2 record batch, base offset assigned
//	kind 2  replace    partition = partition id; same payload as data. The
//	                   batch takes the place of the batch with the same
//	                   base offset (a copy moved forward by the cleaner, or
//	                   a batch rewritten by compaction with fewer records).
//	kind 3  remove     partition = partition id
//	        0  int64  base offset of the batch that compaction removed
//	kind 4  set-start  partition = partition id
//	        0  int64  new log start offset (DeleteRecords, retention);
//	                  batches wholly below it are deleted
//	kind 5  catalog    partition = 0
//	        0  bytes  a JSON object, catalogOp (catalog.go): create or
//	                  delete a topic, add partitions, change a config

import (
	"encoding/binary"
	"fmt"

	"github.com/weir-io/weir/internal/recordbatch"
	"github.com/weir-io/weir/internal/storage/commitlog"
)

// Entry kinds. Part of the on-disk format.
const (
	kindData     commitlog.Kind = 1
	kindReplace  commitlog.Kind = 2
	kindRemove   commitlog.Kind = 3
	kindSetStart commitlog.Kind = 4
	kindCatalog  commitlog.Kind = 5
)

// dataPrefix is the size of the append time before the batch.
const dataPrefix = 8

// entryOverhead is what a data entry takes beyond its batch.
const entryOverhead = commitlog.EntryHeaderSize + dataPrefix

// dataHeader returns the prefix of a data or replace payload; the batch
// follows it.
func dataHeader(appendTime int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, dataPrefix), uint64(appendTime))
}

// decodeData splits a data or replace payload and reads the batch header.
func decodeData(payload []byte) (int64, []byte, recordbatch.Header, error) {
	if len(payload) < dataPrefix+recordbatch.HeaderSize {
		return 0, nil, recordbatch.Header{}, fmt.Errorf("data entry of %d bytes is too short", len(payload))
	}
	batch := payload[dataPrefix:]
	h, err := recordbatch.ReadHeader(batch)
	if err != nil {
		return 0, nil, h, err
	}
	return int64(binary.BigEndian.Uint64(payload)), batch, h, nil
}

func encodeInt64(v int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(v))
}

func decodeInt64(payload []byte) (int64, error) {
	if len(payload) != 8 {
		return 0, fmt.Errorf("want an 8-byte payload, got %d bytes", len(payload))
	}
	return int64(binary.BigEndian.Uint64(payload)), nil
}
