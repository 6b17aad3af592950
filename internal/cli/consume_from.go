package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// startKind says how --from chooses where each partition is read from.
type startKind int

const (
	fromEarliest startKind = iota // the log start offset
	fromLatest                    // the log end offset: only new records
	fromOffset                    // an offset, the same in every partition
	fromTail                      // the last n records of each partition
	fromTime                      // the first record at or after a time
)

// startPosition is a parsed --from.
type startPosition struct {
	kind startKind
	// offset is the offset for fromOffset, the record count for fromTail.
	offset int64
	// millis is the time for fromTime, in Unix milliseconds.
	millis int64
}

// parseFrom parses --from:
//
//	earliest              the first record kept in each partition
//	latest                the end: only records written from now on
//	N (N >= 0)            offset N in each partition
//	-N                    the last N records of each partition
//	@MS                   the first record at or after MS Unix milliseconds
//	@TIME or TIME         the same for an RFC 3339 time (2024-05-01T12:00:00Z)
func parseFrom(s string) (startPosition, error) {
	switch s {
	case "earliest":
		return startPosition{kind: fromEarliest}, nil
	case "latest":
		return startPosition{kind: fromLatest}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return startPosition{kind: fromTail, offset: -n}, nil
		}
		return startPosition{kind: fromOffset, offset: n}, nil
	}
	at := strings.TrimPrefix(s, "@")
	if at != s {
		if ms, err := strconv.ParseInt(at, 10, 64); err == nil && ms >= 0 {
			return startPosition{kind: fromTime, millis: ms}, nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		return startPosition{kind: fromTime, millis: t.UnixMilli()}, nil
	}
	return startPosition{}, fmt.Errorf("--from %q: want earliest, latest, an offset, -N (the last N records), @UNIX-MS or an RFC 3339 time", s)
}

// resolve picks the offset to read a partition from, given its offset
// range and, for fromTime, the offset the broker listed for the time (-1
// when no record is that recent). An offset outside the range is brought
// into it: before the log start it is the log start, past the end the end.
func (p startPosition) resolve(r offsetRange, listed int64) int64 {
	var at int64
	switch p.kind {
	case fromEarliest:
		at = r.start
	case fromLatest:
		at = r.end
	case fromOffset:
		at = p.offset
	case fromTail:
		at = r.end - p.offset
	case fromTime:
		at = listed
		if at < 0 {
			at = r.end
		}
	}
	return min(max(at, r.start), r.end)
}
