package compat

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// memberEvent is what a member of a consumer group reports: partitions it
// was given or gave up, a record it consumed, an error its client
// reported. Script members print one per line, as JSON; the Go clients'
// members add theirs directly. The suite adds when a member ended.
type memberEvent struct {
	// Event is assigned, revoked or lost (Partitions: those given or
	// taken, not the whole assignment), record (Partition, Offset,
	// Value), error (Message), or, from the suite, ended.
	Event      string  `json:"event"`
	Time       int64   `json:"time"` // microseconds since the Unix epoch, by the member's clock
	Partitions []int32 `json:"partitions"`
	Partition  int32   `json:"partition"`
	Offset     int64   `json:"offset"`
	Value      string  `json:"value"`
	Message    string  `json:"message"`

	member string
}

// removes reports whether the event ends ownership of partitions; at the
// same time, those come before assignments.
func (e memberEvent) removes() bool { return e.Event != "assigned" }

// groupLog collects the events of the members of one group and answers,
// from them, who owned which partition when, and which records were
// consumed. Members on one machine share its clock, so events of
// different members are put in order by their times: a member gives a
// partition up before it sends the request that lets the coordinator give
// it to another, so the two are at least a round trip apart.
type groupLog struct {
	topic string
	start time.Time
	mu    struct {
		sync.Mutex
		events []memberEvent
		// ended maps members that were stopped or killed to when: later
		// events of theirs (an abandoned Go client's callbacks) are
		// dropped.
		ended map[string]int64
		// last is the time of each member's last event: a member's events
		// are in the order it reported them, so one that comes with the
		// same time as the one before is put a microsecond after it.
		last map[string]int64
		// problems are reports that cannot be right whatever the order
		// of events: a record whose value is not the one produced at its
		// offset, a line a script should not have printed.
		problems []string
		// changed is closed, and replaced, by every event.
		changed chan struct{}
	}
}

func newGroupLog(topic string) *groupLog {
	l := &groupLog{topic: topic, start: time.Now().Truncate(time.Microsecond)}
	l.mu.ended = map[string]int64{}
	l.mu.last = map[string]int64{}
	l.mu.changed = make(chan struct{})
	return l
}

// recordValue is the value the scenario produces at a partition and
// offset, so that what a member consumed is checked without telling it
// what to expect.
func (l *groupLog) recordValue(partition int32, offset int64) string {
	return fmt.Sprintf("%s/%d/%d", l.topic, partition, offset)
}

// nowMicros is the time in microseconds since the Unix epoch, as events
// carry it.
func nowMicros() int64 { return time.Now().UnixMicro() }

// add records an event of a member, stamped now if it has no time.
func (l *groupLog) add(member string, e memberEvent) {
	if e.Time == 0 {
		e.Time = nowMicros()
	}
	e.member = member
	l.mu.Lock()
	defer l.mu.Unlock()
	if end, ok := l.mu.ended[member]; ok && e.Time > end {
		return
	}
	if last := l.mu.last[member]; e.Time <= last {
		e.Time = last + 1
	}
	switch e.Event {
	case "assigned", "revoked", "lost":
		if len(e.Partitions) == 0 {
			return // some clients report every rebalance, changed or not
		}
		e.Partitions = slices.Sorted(slices.Values(e.Partitions))
	case "error":
	case "record":
		if want := l.recordValue(e.Partition, e.Offset); e.Value != want {
			l.mu.problems = append(l.mu.problems, fmt.Sprintf("%s consumed %q at partition %d offset %d, where %q was produced", member, e.Value, e.Partition, e.Offset, want))
		}
	default:
		l.mu.problems = append(l.mu.problems, fmt.Sprintf("%s reported an unknown event %q", member, e.Event))
		return
	}
	l.mu.events = append(l.mu.events, e)
	l.mu.last[member] = e.Time
	close(l.mu.changed)
	l.mu.changed = make(chan struct{})
}

// problem records something a member did wrong that is not an event.
func (l *groupLog) problem(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.problems = append(l.mu.problems, fmt.Sprintf(format, args...))
	close(l.mu.changed)
	l.mu.changed = make(chan struct{})
}

// end records that a member was stopped or killed now: from then on it
// owns nothing, and what it still reports is dropped.
func (l *groupLog) end(member string) {
	t := nowMicros()
	l.mu.Lock()
	defer l.mu.Unlock()
	t = max(t, l.mu.last[member]+1)
	l.mu.ended[member] = t
	l.mu.events = append(l.mu.events, memberEvent{Event: "ended", Time: t, member: member})
	close(l.mu.changed)
	l.mu.changed = make(chan struct{})
}

// since is a time of the log as seconds since it started.
func (l *groupLog) since(micros int64) string {
	return fmt.Sprintf("+%.3fs", time.UnixMicro(micros).Sub(l.start).Seconds())
}

// groupState is what the events of a group say so far.
type groupState struct {
	// owned is the partitions each member owns now.
	owned map[string][]int32
	// consumed counts the times each record (partition, offset) was
	// consumed.
	consumed map[position]int
	// overlaps are the times a partition went to a member while another,
	// not ended, still owned it.
	overlaps []string
	problems []string
	errors   []string
}

// state replays the events in order of time.
func (l *groupLog) state() (*groupState, <-chan struct{}) {
	l.mu.Lock()
	events := slices.Clone(l.mu.events)
	problems := slices.Clone(l.mu.problems)
	changed := l.mu.changed
	l.mu.Unlock()
	sort.SliceStable(events, func(i, j int) bool {
		a, b := events[i], events[j]
		return a.Time < b.Time || a.Time == b.Time && a.removes() && !b.removes()
	})
	s := &groupState{owned: map[string][]int32{}, consumed: map[position]int{}, problems: problems}
	type ownership struct {
		member string
		since  int64
	}
	owner := map[int32]ownership{}
	for _, e := range events {
		switch e.Event {
		case "assigned":
			for _, p := range e.Partitions {
				if o, ok := owner[p]; ok && o.member != e.member {
					s.overlaps = append(s.overlaps, fmt.Sprintf("partition %d went to %s at %s while %s still owned it (since %s)",
						p, e.member, l.since(e.Time), o.member, l.since(o.since)))
				}
				owner[p] = ownership{e.member, e.Time}
			}
		case "revoked", "lost":
			for _, p := range e.Partitions {
				if owner[p].member == e.member {
					delete(owner, p)
				}
			}
		case "ended":
			for p, o := range owner {
				if o.member == e.member {
					delete(owner, p)
				}
			}
		case "record":
			s.consumed[position{e.Partition, e.Offset}]++
		case "error":
			s.errors = append(s.errors, fmt.Sprintf("%s at %s: %s", e.member, l.since(e.Time), e.Message))
		}
	}
	for p, o := range owner {
		s.owned[o.member] = append(s.owned[o.member], p)
	}
	for _, ps := range s.owned {
		slices.Sort(ps)
	}
	return s, changed
}

// missing describes the records up to the end offsets that no member
// consumed, "" if none.
func (s *groupState) missing(ends map[int32]int64) string {
	var gaps []string
	n := 0
	for p := range int32(len(ends)) {
		for o := range ends[p] {
			if s.consumed[position{p, o}] == 0 {
				if n < 5 {
					gaps = append(gaps, fmt.Sprintf("partition %d offset %d", p, o))
				}
				n++
			}
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d records not consumed (%s)", n, strings.Join(gaps, ", "))
}

// split describes how far the partitions are from being split among
// exactly the given members, each with some, "" if they are.
func (s *groupState) split(partitions int32, members []string) string {
	owners := map[int32]string{}
	for m, ps := range s.owned {
		for _, p := range ps {
			owners[p] = m
		}
	}
	for _, m := range members {
		if len(s.owned[m]) == 0 {
			return fmt.Sprintf("%s owns no partition (owners: %s)", m, s.describe())
		}
	}
	for p := range partitions {
		if o, ok := owners[p]; !ok || !slices.Contains(members, o) {
			return fmt.Sprintf("partition %d is not owned by one of %s (owners: %s)", p, strings.Join(members, ", "), s.describe())
		}
	}
	return ""
}

// describe lists who owns what.
func (s *groupState) describe() string {
	var parts []string
	for m, ps := range s.owned {
		parts = append(parts, fmt.Sprintf("%s %v", m, ps))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "nobody owns a partition"
	}
	return strings.Join(parts, "; ")
}

// wait waits until cond, given the state, returns "", for at most
// timeout; the error names what and what cond said last.
func (l *groupLog) wait(ctx context.Context, timeout time.Duration, what string, cond func(*groupState) string) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s, changed := l.state()
		if len(s.problems) > 0 {
			return fmt.Errorf("%s: %s", what, strings.Join(s.problems, "; "))
		}
		why := cond(s)
		if why == "" {
			return nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return fmt.Errorf("%s: not within %v: %s", what, timeout, why)
		case <-ctx.Done():
			return fmt.Errorf("%s: %w: %s", what, ctx.Err(), why)
		}
	}
}

// timeline lists the ownership events in order of time, to show what
// happened when a scenario fails.
func (l *groupLog) timeline() string {
	l.mu.Lock()
	events := slices.Clone(l.mu.events)
	l.mu.Unlock()
	sort.SliceStable(events, func(i, j int) bool { return events[i].Time < events[j].Time })
	var b strings.Builder
	for _, e := range events {
		switch e.Event {
		case "record":
			continue
		case "error":
			fmt.Fprintf(&b, "%s %s error: %s\n", l.since(e.Time), e.member, e.Message)
		default:
			fmt.Fprintf(&b, "%s %s %s %v\n", l.since(e.Time), e.member, e.Event, e.Partitions)
		}
	}
	return b.String()
}
