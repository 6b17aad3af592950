package recordbatch_test

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weir-io/weir/internal/recordbatch"
)

// The broker's produce path: split the request's records into batches,
// validate each, and assign it its offset and append time in place.
func Example() {
	produced, _ := recordbatch.Build(recordbatch.Header{
		Attributes:      int16(recordbatch.Zstd),
		LastOffsetDelta: 1,
		BaseTimestamp:   1000,
		MaxTimestamp:    1001,
		ProducerID:      -1,
		BaseSequence:    -1,
	}, []kmsg.Record{
		{OffsetDelta: 0, Key: []byte("a"), Value: []byte("1")},
		{OffsetDelta: 1, TimestampDelta64: 1, Key: []byte("b"), Value: nil},
	})

	batches, err := recordbatch.Split(produced)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, batch := range batches {
		if _, err := recordbatch.Validate(batch); err != nil {
			fmt.Println(err)
			return
		}
		recordbatch.SetBaseOffset(batch, 42)
		recordbatch.SetLogAppendTime(batch, 5000)

		h, records, err := recordbatch.Records(batch, 1<<20)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(h.Codec(), h.BaseOffset, h.LastOffset())
		for i := range records {
			r := &records[i]
			fmt.Printf("offset %d time %d key %s value %q tombstone %t\n",
				h.OffsetOf(r), h.TimestampOf(r), r.Key, r.Value, r.Value == nil)
		}
	}
	// Output:
	// zstd 42 43
	// offset 42 time 5000 key a value "1" tombstone false
	// offset 43 time 5000 key b value "" tombstone true
}
