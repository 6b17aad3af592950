package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// resetKind says where reset-offsets moves each partition's offset.
type resetKind int

const (
	resetToEarliest resetKind = iota // the log start offset
	resetToLatest                    // the log end offset
	resetToOffset                    // an offset, the same in every partition
	resetShiftBy                     // the committed offset moved by a count
	resetToTime                      // the first record at or after a time
)

// resetSpec is the parsed choice of --to-earliest, --to-latest,
// --to-offset, --shift-by, --to-datetime or --by-duration.
type resetSpec struct {
	kind resetKind
	// offset is the offset for resetToOffset, the shift for resetShiftBy.
	offset int64
	// millis is the time for resetToTime, in Unix milliseconds.
	millis int64
}

// resetFlags are the values of reset-offsets' flags that choose the new
// offsets; the set fields say which flags were given.
type resetFlags struct {
	toEarliest, toLatest   bool
	toOffset, shiftBy      int64
	toOffsetSet, shiftSet  bool
	toDatetime, byDuration string
}

// parseResetSpec checks that exactly one way of choosing offsets is given
// and parses it. now and loc are the clock and the time zone of times
// written without one (--by-duration counts back from now).
func parseResetSpec(f resetFlags, now time.Time, loc *time.Location) (resetSpec, error) {
	var specs []resetSpec
	var names []string
	if f.toEarliest {
		specs, names = append(specs, resetSpec{kind: resetToEarliest}), append(names, "--to-earliest")
	}
	if f.toLatest {
		specs, names = append(specs, resetSpec{kind: resetToLatest}), append(names, "--to-latest")
	}
	if f.toOffsetSet {
		if f.toOffset < 0 {
			return resetSpec{}, fmt.Errorf("--to-offset %d: want an offset (0 or more)", f.toOffset)
		}
		specs, names = append(specs, resetSpec{kind: resetToOffset, offset: f.toOffset}), append(names, "--to-offset")
	}
	if f.shiftSet {
		specs, names = append(specs, resetSpec{kind: resetShiftBy, offset: f.shiftBy}), append(names, "--shift-by")
	}
	if f.toDatetime != "" {
		t, err := parseResetTime(f.toDatetime, loc)
		if err != nil {
			return resetSpec{}, err
		}
		specs, names = append(specs, resetSpec{kind: resetToTime, millis: t.UnixMilli()}), append(names, "--to-datetime")
	}
	if f.byDuration != "" {
		d, err := parseResetDuration(f.byDuration)
		if err != nil {
			return resetSpec{}, err
		}
		specs, names = append(specs, resetSpec{kind: resetToTime, millis: now.Add(-d).UnixMilli()}), append(names, "--by-duration")
	}
	switch len(specs) {
	case 0:
		return resetSpec{}, errors.New("say where to move the offsets: one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime, --by-duration")
	case 1:
		return specs[0], nil
	}
	return resetSpec{}, fmt.Errorf("%s exclude each other", strings.Join(names, " and "))
}

// resetTimeLayouts are the layouts --to-datetime takes besides RFC 3339:
// a time without a zone, in the local zone (also as Kafka's
// kafka-consumer-groups.sh writes it, with milliseconds).
var resetTimeLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999"}

// parseResetTime parses --to-datetime: an RFC 3339 time
// ("2024-05-01T12:00:00Z", "2024-05-01T14:00:00.5+02:00") or one without
// a zone, taken in loc ("2024-05-01T12:00:00", "2024-05-01T12:00:00.000").
func parseResetTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range resetTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--to-datetime %q: want an RFC 3339 time (2024-05-01T12:00:00Z) or a local time (2024-05-01T12:00:00)", s)
}

// isoDuration matches the ISO-8601 durations Java's Duration.parse reads,
// as kafka-consumer-groups.sh --by-duration takes them: days, hours,
// minutes and seconds (PT1H, P1DT12H, PT30M, PT0.5S).
var isoDuration = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,9})?)S)?)?$`)

// parseResetDuration parses --by-duration: a Go duration ("1h30m",
// "45s") or an ISO-8601 one ("PT1H30M", "P2D"), not negative.
func parseResetDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("--by-duration %q: want a duration such as 1h30m or PT1H30M, not negative", s)
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return 0, bad
		}
		return d, nil
	}
	upper := strings.ToUpper(s)
	m := isoDuration.FindStringSubmatch(upper)
	if m == nil || upper == "P" || strings.HasSuffix(upper, "T") {
		return 0, bad
	}
	var total float64 // in nanoseconds; a float cannot overflow here
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseFloat(m[i+1], 64)
		if err != nil {
			return 0, bad
		}
		total += n * float64(unit)
	}
	if total >= 1<<63 {
		return 0, bad
	}
	return time.Duration(total), nil
}

// plannedOffset is one partition of a reset plan, and of `weir group
// reset-offsets --output json`: its committed offset (null: none) and the
// offset it is moved to.
type plannedOffset struct {
	Topic         string `json:"topic"`
	Partition     int32  `json:"partition"`
	CurrentOffset *int64 `json:"current_offset"`
	NewOffset     int64  `json:"new_offset"`
}

// resetState is what a reset is planned from: the group's committed
// offsets, the partitions' offset ranges and, for resetToTime, the offset
// ListOffsets gave for the time in each partition (-1: no record that
// recent).
type resetState struct {
	committed map[topicPartition]int64
	ranges    map[topicPartition]offsetRange
	atTime    map[topicPartition]int64
}

// planReset computes the new offset of each partition. Every new offset
// lies within the partition's range, from its log start to its log end: an
// offset before the start becomes the start, one past the end the end (as
// kafka-consumer-groups.sh does), and a time after every record the end.
// --shift-by needs a committed offset to shift.
func planReset(spec resetSpec, partitions []topicPartition, st resetState) ([]plannedOffset, error) {
	plan := make([]plannedOffset, 0, len(partitions))
	for _, tp := range partitions {
		r, ok := st.ranges[tp]
		if !ok {
			return nil, fmt.Errorf("no log offsets listed for %s", tp)
		}
		p := plannedOffset{Topic: tp.topic, Partition: tp.partition}
		if c, ok := st.committed[tp]; ok {
			p.CurrentOffset = &c
		}
		var at int64
		switch spec.kind {
		case resetToEarliest:
			at = r.start
		case resetToLatest:
			at = r.end
		case resetToOffset:
			at = spec.offset
		case resetShiftBy:
			if p.CurrentOffset == nil {
				return nil, fmt.Errorf("cannot shift the offset of %s: the group has committed none", tp)
			}
			at = shift(*p.CurrentOffset, spec.offset)
		case resetToTime:
			listed, ok := st.atTime[tp]
			if !ok {
				return nil, fmt.Errorf("no offset listed for the time in %s", tp)
			}
			at = listed
			if at < 0 {
				at = r.end
			}
		}
		p.NewOffset = min(max(at, r.start), r.end)
		plan = append(plan, p)
	}
	return plan, nil
}

// shift is offset+by, saturating instead of overflowing.
func shift(offset, by int64) int64 {
	sum := offset + by
	switch {
	case by > 0 && sum < offset:
		return 1<<63 - 1
	case by < 0 && sum > offset:
		return -1 << 63
	}
	return sum
}
