package storage

import (
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// newIndexIter returns an iterator over one partition's index entries.
func newIndexIter(r pebble.Reader, pid uint64) (*pebble.Iterator, error) {
	lo, hi := partitionRange(prefixIndex, pid)
	return r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
}

// scanIndex returns up to n (all when n < 0) index entries of a partition
// whose base offset is at least from, in offset order.
func scanIndex(r pebble.Reader, pid uint64, from int64, n int) ([]indexEntry, error) {
	it, err := newIndexIter(r, pid)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []indexEntry
	for ok := it.SeekGE(indexKey(pid, from)); ok && n != 0; ok = it.Next() {
		_, ie, err := decodeIndex(it.Key(), it.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, ie)
		n--
	}
	return out, it.Error()
}

// findBatch returns the index entry of the batch holding offset, or of the
// first batch after it when offset falls in a gap (compaction leaves gaps).
func findBatch(r pebble.Reader, pid uint64, offset int64) (indexEntry, bool, error) {
	it, err := newIndexIter(r, pid)
	if err != nil {
		return indexEntry{}, false, err
	}
	defer it.Close()
	if offset < math.MaxInt64 && it.SeekLT(indexKey(pid, offset+1)) {
		_, ie, err := decodeIndex(it.Key(), it.Value())
		if err != nil {
			return indexEntry{}, false, err
		}
		if ie.last() >= offset {
			return ie, true, nil
		}
	}
	if !it.SeekGE(indexKey(pid, offset)) {
		return indexEntry{}, false, it.Error()
	}
	_, ie, err := decodeIndex(it.Key(), it.Value())
	return ie, err == nil, err
}

// putIndex writes one index entry.
func putIndex(w pebble.Writer, pid uint64, ie indexEntry) error {
	var k [17]byte
	var v [indexValueSize]byte
	// NoSync: for a Batch the options are ignored, and for the DB nil
	// would mean a synced write. Pebble copies key and value.
	return w.Set(putIndexKey(&k, pid, ie.base), putIndexValue(&v, ie), pebble.NoSync)
}

// deleteBelow deletes the index entries of the batches that lie wholly
// below start, and the time index entries that point at them. It returns
// the entries it deleted, in offset order, and the first one it kept.
func deleteBelow(b *pebble.Batch, pid uint64, start int64) ([]indexEntry, *indexEntry, error) {
	it, err := newIndexIter(b, pid)
	if err != nil {
		return nil, nil, err
	}
	var removed []indexEntry
	var kept *indexEntry
	for ok := it.First(); ok; ok = it.Next() {
		_, ie, err := decodeIndex(it.Key(), it.Value())
		if err != nil {
			it.Close()
			return nil, nil, err
		}
		if ie.last() >= start {
			kept = &ie
			break
		}
		removed = append(removed, ie)
	}
	if err := it.Close(); err != nil {
		return nil, nil, err
	}
	if len(removed) == 0 {
		return nil, kept, nil
	}
	lo, _ := partitionRange(prefixIndex, pid)
	cut := removed[len(removed)-1].base + 1
	if err := b.DeleteRange(lo, indexKey(pid, cut), nil); err != nil {
		return nil, nil, err
	}
	// Time index entries point at base offsets; in the usual case of
	// growing timestamps they are in offset order too, and the ones of
	// deleted batches come first. Others that remain are checked when read.
	tl, th := partitionRange(prefixTime, pid)
	tit, err := b.NewIter(&pebble.IterOptions{LowerBound: tl, UpperBound: th})
	if err != nil {
		return nil, nil, err
	}
	defer tit.Close()
	for ok := tit.First(); ok; ok = tit.Next() {
		base, err := decodeInt64(tit.Value())
		if err != nil || base >= cut {
			break
		}
		if err := b.Delete(append([]byte(nil), tit.Key()...), nil); err != nil {
			return nil, nil, err
		}
	}
	return removed, kept, nil
}

// lastTimeIndex returns the largest running max timestamp in a partition's
// time index, or math.MinInt64.
func lastTimeIndex(r pebble.Reader, pid uint64) (int64, error) {
	lo, hi := partitionRange(prefixTime, pid)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if it.Last() {
		return decodeTimeKey(it.Key()), nil
	}
	return math.MinInt64, it.Error()
}
