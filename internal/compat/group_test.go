package compat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The consumer-group scenario. Each client runs it once per rebalance
// protocol it has, against a broker of its own that is a weir serve
// process (it is SIGKILLed at the end), with a topic of groupPartitions
// partitions:
//
//  1. franz-go produces a batch of records; three members of one group,
//     run by the client under test, start and consume all of it, each
//     owning some partitions.
//  2. member-3 is killed (a process: SIGKILL; a Go client: its connections
//     cut, so that it sends nothing more): the coordinator must still list
//     it (no LeaveGroup was sent). franz-go produces a batch; member-1 and
//     member-2 must take member-3's partitions within its session timeout
//     (and 5 s for the rebalance) and consume the batch.
//  3. member-2 stops cleanly (commit, leave): the coordinator must no
//     longer list it as soon as it has left. franz-go produces a batch;
//     member-1 must take every partition and consume it.
//  4. member-1 stops cleanly: the group's committed offsets, read with
//     kadm, must be the log end offsets; and the same after weir serve is
//     stopped (SIGTERM) and started again, and after it is killed (SIGKILL)
//     and started again on the same data directory.
//
// Throughout, every record must be consumed at least once, with the value
// produced at its offset, and no partition may go to a member while
// another member that has not ended still owns it, as the members'
// assignment and revocation events say (groupLog).
//
// The rows of the table: group/<protocol>/join-leave (steps 1 and 3),
// kill-member (step 2), commit-restart (step 4).

// groupProtocols are the ways a group rebalances, each a set of rows of
// the table.
var groupProtocols = []string{
	"eager",       // classic protocol, everything revoked and reassigned at each rebalance
	"cooperative", // classic protocol, incremental (KIP-429)
	"kip848",      // the broker assigns (KIP-848, ConsumerGroupHeartbeat)
}

// groupSteps are the rows of each protocol.
var groupSteps = []string{"join-leave", "kill-member", "commit-restart"}

// groupRows lists the group rows of the table.
func groupRows() []string {
	var rows []string
	for _, p := range groupProtocols {
		for _, s := range groupSteps {
			rows = append(rows, "group/"+p+"/"+s)
		}
	}
	return rows
}

// The timing of the scenario's groups: short, so that a killed member's
// partitions move within seconds. Members ask for groupSessionTimeout and
// heartbeat every groupHeartbeatInterval; weirGroupFlags give KIP-848
// members the same (the broker sets theirs).
const (
	groupSessionTimeout    = 3 * time.Second
	groupHeartbeatInterval = 300 * time.Millisecond
	groupRebalanceTimeout  = 10 * time.Second
	groupPartitions        = 6
	// groupBatch is the number of records per partition of each batch.
	groupBatch = 10
	// groupWait bounds each wait of the scenario for what should take a
	// few rebalances.
	groupWait = 30 * time.Second
	// groupScenarioTimeout bounds one scenario, broker restarts included.
	groupScenarioTimeout = 3 * time.Minute
)

// weirGroupFlags are the broker's group settings for the scenario.
var weirGroupFlags = []string{
	"--group-initial-rebalance-delay", "100ms",
	"--group-min-session-timeout", "500ms",
	"--group-consumer-session-timeout", groupSessionTimeout.String(),
	"--group-consumer-heartbeat-interval", groupHeartbeatInterval.String(),
}

// groupClient starts members of a group with the client under test, under
// one rebalance protocol.
type groupClient interface {
	// start starts a member: it joins the group, consumes the topic from
	// the earliest offset where the group has none, commits what it
	// consumed in the client's usual way, and reports its events to
	// spec.log. It returns once the member is started, not joined.
	start(ctx context.Context, spec memberSpec) (groupMember, error)
}

// memberSpec is what a member is started with.
type memberSpec struct {
	addr, group, topic string
	// name is the member's client ID, by which the coordinator's
	// descriptions of the group are read.
	name string
	log  *groupLog
}

// groupMember is a running member.
type groupMember interface {
	// stop has the member stop consuming, commit, leave the group and
	// close; it returns once it has (or failed to).
	stop(ctx context.Context) error
	// kill ends the member at once, without a word to the broker: no
	// commit, no LeaveGroup.
	kill()
}

// startGroups starts the group scenario for each protocol the client has,
// all at the same time and alongside the client's other features (each
// waits on its group's timeouts, hardly on the CPU), and records the rows.
// It returns a function that waits for the scenarios to end.
func startGroups(t *testing.T, c *client) (wait func()) {
	if c.notes == nil {
		c.notes = map[string]string{}
	}
	for protocol := range c.groups {
		if c.groupCommits != "" {
			c.notes["group/"+protocol+"/commit-restart"] = c.groupCommits
		}
	}
	var wg sync.WaitGroup
	for _, protocol := range groupProtocols {
		gc, ok := c.groups[protocol]
		if !ok {
			t.Run("group/"+protocol, func(t *testing.T) {
				o := outcome{status: notSupported, note: c.groupLacks[protocol]}
				if why, ok := c.groupUntested[protocol]; ok {
					o = outcome{status: notTested, note: why}
				}
				if o.note == "" {
					t.Fatalf("%s has no %s group client and no reason in groupLacks or groupUntested", c.name, protocol)
				}
				for _, step := range groupSteps {
					recordOutcome(c.name, "group/"+protocol+"/"+step, o)
				}
				t.Skip(o.note)
			})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run("group/"+protocol, func(t *testing.T) {
				results := runGroupScenario(t, protocol, gc)
				for _, step := range groupSteps {
					t.Run(step, func(t *testing.T) {
						report(t, c, "group/"+protocol+"/"+step, results[step])
					})
				}
			})
		}()
	}
	return wg.Wait
}

// groupScenario is one run of the scenario.
type groupScenario struct {
	t        *testing.T
	protocol string
	client   groupClient
	broker   *weirProcess
	admin    *kadm.Client
	log      *groupLog
	group    string
	topic    string
	// ends are the log end offsets: what has been produced.
	ends    map[int32]int64
	members map[string]groupMember
	// errorsLogged counts the member errors logged so far.
	errorsLogged int
}

// runGroupScenario runs the scenario and returns the outcome of each
// step's row (nil: passed).
func runGroupScenario(t *testing.T, protocol string, gc groupClient) map[string]error {
	ctx, cancel := context.WithTimeout(context.Background(), groupScenarioTimeout)
	defer cancel()
	s := &groupScenario{
		t: t, protocol: protocol, client: gc,
		group: "compat-" + protocol, topic: "group-" + protocol,
		ends: map[int32]int64{}, members: map[string]groupMember{},
	}
	s.log = newGroupLog(s.topic)
	started := time.Now()
	results := map[string]error{}
	defer func() { s.cleanup(len(results) > 0) }()
	steps := []struct {
		row string
		run func(context.Context) error
	}{
		{"join-leave", s.setup},
		{"join-leave", s.join},
		{"kill-member", s.killMember},
		{"join-leave", s.leave},
		{"commit-restart", s.commitOffsets},
		{"commit-restart", s.restarts},
	}
	for i, step := range steps {
		err := step.run(ctx)
		if err == nil {
			err = s.checkLog()
		}
		if err == nil {
			continue
		}
		results[step.row] = err
		for _, later := range steps[i+1:] {
			if results[later.row] == nil {
				results[later.row] = fmt.Errorf("not reached: group/%s/%s failed first", protocol, step.row)
			}
		}
		break
	}
	t.Logf("group scenario (%s) took %v", protocol, time.Since(started).Round(time.Millisecond))
	if len(results) > 0 || testing.Verbose() {
		t.Logf("events of %s (but records):\n%s", s.group, s.log.timeline())
	}
	return results
}

// cleanup ends whatever is left running, and shows what the broker said
// last if the scenario failed.
func (s *groupScenario) cleanup(failed bool) {
	for _, m := range s.members {
		m.kill()
	}
	if s.admin != nil {
		s.admin.Close()
	}
	if s.broker != nil {
		s.broker.kill()
		if failed {
			s.t.Logf("weir serve's last lines:\n%s", s.broker.log.tail())
		}
	}
}

// checkLog reports overlapping ownership and wrong records, and logs the
// errors members reported.
func (s *groupScenario) checkLog() error {
	if s.broker != nil {
		if race := s.broker.log.raceReport(); race != "" {
			return fmt.Errorf("weir serve reported a data race:\n%s", race)
		}
	}
	st, _ := s.log.state()
	for _, e := range st.errors[s.errorsLogged:] {
		s.t.Logf("member error: %s", e)
	}
	s.errorsLogged = len(st.errors)
	if len(st.problems) > 0 {
		return errors.New(strings.Join(st.problems, "; "))
	}
	if len(st.overlaps) > 0 {
		return fmt.Errorf("two members owned a partition at once: %s", strings.Join(st.overlaps, "; "))
	}
	return nil
}

// setup starts the broker and creates the topic.
func (s *groupScenario) setup(ctx context.Context) error {
	broker, err := startWeir(ctx, s.t.TempDir(), weirGroupFlags...)
	if err != nil {
		return err
	}
	s.broker = broker
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.addr))
	if err != nil {
		return err
	}
	s.admin = kadm.NewClient(cl)
	resp, err := s.admin.CreateTopic(ctx, groupPartitions, 1, nil, s.topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("franz-go: create topic %s: %w", s.topic, err)
	}
	return nil
}

// produce writes a batch with franz-go: groupBatch records to each
// partition, each valued by its offset (groupLog.recordValue).
func (s *groupScenario) produce(ctx context.Context) error {
	var records []record
	for p := range int32(groupPartitions) {
		for range groupBatch {
			o := s.ends[p]
			records = append(records, record{Partition: p, Offset: o, Value: []byte(s.log.recordValue(p, o)), Headers: []header{}, Timestamp: time.Now().UnixMilli()})
			s.ends[p]++
		}
	}
	got, err := franzProduce(ctx, s.broker.addr, s.topic, "none", records)
	if err != nil {
		return fmt.Errorf("franz-go: produce: %w", err)
	}
	return checkPositions(got, records)
}

// startMember starts a member named member-<n>.
func (s *groupScenario) startMember(ctx context.Context, n int) error {
	name := fmt.Sprintf("member-%d", n)
	m, err := s.client.start(ctx, memberSpec{addr: s.broker.addr, group: s.group, topic: s.topic, name: name, log: s.log})
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	s.members[name] = m
	return nil
}

// consumedBy waits for the members to own every partition between them and
// for every record produced to be consumed.
func (s *groupScenario) consumedBy(ctx context.Context, timeout time.Duration, members ...string) error {
	what := fmt.Sprintf("%s own the partitions and consume every record", strings.Join(members, ", "))
	return s.log.wait(ctx, timeout, what, func(st *groupState) string {
		if why := st.split(groupPartitions, members); why != "" {
			return why
		}
		return st.missing(s.ends)
	})
}

// join: three members join and consume the first batch.
func (s *groupScenario) join(ctx context.Context) error {
	if err := s.produce(ctx); err != nil {
		return err
	}
	for n := 1; n <= 3; n++ {
		if err := s.startMember(ctx, n); err != nil {
			return err
		}
	}
	return s.consumedBy(ctx, groupWait, "member-1", "member-2", "member-3")
}

// killMember kills member-3; the others take its partitions.
func (s *groupScenario) killMember(ctx context.Context) error {
	// The member ends for the log first: what its client reports as it
	// dies (its cut connections) is dropped.
	killed := time.Now()
	s.log.end("member-3")
	s.members["member-3"].kill()
	delete(s.members, "member-3")
	listed, err := s.listed(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(listed, "member-3") {
		return fmt.Errorf("right after member-3 was killed, the coordinator no longer lists it (members: %v): it must have left the group, so the kill tests nothing", listed)
	}
	if err := s.produce(ctx); err != nil {
		return err
	}
	// The coordinator notices within the session timeout, the others at
	// their next heartbeat; the rest is a rebalance.
	if err := s.log.wait(ctx, groupSessionTimeout+5*time.Second, "member-1 and member-2 take member-3's partitions", func(st *groupState) string {
		return st.split(groupPartitions, []string{"member-1", "member-2"})
	}); err != nil {
		return fmt.Errorf("after member-3 was killed (session timeout %v): %w", groupSessionTimeout, err)
	}
	s.t.Logf("%s: member-3's partitions moved %v after it was killed", s.protocol, time.Since(killed).Round(time.Millisecond))
	return s.consumedBy(ctx, groupWait, "member-1", "member-2")
}

// leave stops member-2 cleanly; member-1 takes every partition.
func (s *groupScenario) leave(ctx context.Context) error {
	if err := s.stopMember(ctx, "member-2"); err != nil {
		return err
	}
	listed, err := s.listed(ctx)
	if err != nil {
		return err
	}
	if slices.Contains(listed, "member-2") {
		return fmt.Errorf("member-2 stopped cleanly but the coordinator still lists it (members: %v): no LeaveGroup, or the coordinator kept it", listed)
	}
	if err := s.produce(ctx); err != nil {
		return err
	}
	return s.consumedBy(ctx, groupWait, "member-1")
}

// stopMember stops a member cleanly.
func (s *groupScenario) stopMember(ctx context.Context, name string) error {
	stopCtx, cancel := context.WithTimeout(ctx, groupWait)
	defer cancel()
	err := s.members[name].stop(stopCtx)
	s.log.end(name)
	delete(s.members, name)
	if err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	return nil
}

// listed returns the client IDs of the members the coordinator lists.
func (s *groupScenario) listed(ctx context.Context) ([]string, error) {
	ids, _, err := s.describe(ctx)
	return ids, err
}

// describe returns the client IDs of the members the coordinator lists
// and the group's state, as DescribeGroups (classic) or
// ConsumerGroupDescribe (KIP-848) gives them.
func (s *groupScenario) describe(ctx context.Context) ([]string, string, error) {
	var ids []string
	if s.protocol == "kip848" {
		described, err := s.admin.DescribeConsumerGroups(ctx, s.group)
		if err != nil {
			return nil, "", fmt.Errorf("franz-go: describe consumer group: %w", err)
		}
		g := described[s.group]
		if g.Err != nil {
			return nil, "", fmt.Errorf("franz-go: describe consumer group: %w", g.Err)
		}
		for _, m := range g.Members {
			ids = append(ids, m.ClientID)
		}
		return ids, g.State, nil
	}
	described, err := s.admin.DescribeGroups(ctx, s.group)
	if err != nil {
		return nil, "", fmt.Errorf("franz-go: describe group: %w", err)
	}
	g := described[s.group]
	if g.Err != nil {
		return nil, "", fmt.Errorf("franz-go: describe group: %w", g.Err)
	}
	for _, m := range g.Members {
		ids = append(ids, m.ClientID)
	}
	return ids, g.State, nil
}

// commitOffsets stops member-1 cleanly: the group's committed offsets
// must be the log end offsets.
func (s *groupScenario) commitOffsets(ctx context.Context) error {
	if err := s.stopMember(ctx, "member-1"); err != nil {
		return err
	}
	listed, state, err := s.describe(ctx)
	if err != nil {
		return err
	}
	if len(listed) > 0 || state != "Empty" {
		return fmt.Errorf("every member stopped cleanly but the coordinator lists %v, state %s, want none, Empty", listed, state)
	}
	return s.checkCommitted(ctx, "once every member had stopped")
}

// restarts restarts the broker, gracefully then after SIGKILL: the
// committed offsets must not change.
func (s *groupScenario) restarts(ctx context.Context) error {
	if err := s.broker.stop(ctx); err != nil {
		return err
	}
	if err := s.broker.start(ctx); err != nil {
		return fmt.Errorf("start again after SIGTERM: %w", err)
	}
	if err := s.checkCommitted(ctx, "after weir serve was stopped (SIGTERM) and started again"); err != nil {
		return err
	}
	s.broker.kill()
	if err := s.broker.start(ctx); err != nil {
		return fmt.Errorf("start again after SIGKILL: %w", err)
	}
	return s.checkCommitted(ctx, "after weir serve was killed (SIGKILL) and started again")
}

// checkCommitted reads the group's committed offsets with kadm: they must
// be the log end offsets.
func (s *groupScenario) checkCommitted(ctx context.Context, when string) error {
	committed, err := s.admin.FetchOffsets(ctx, s.group)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		return fmt.Errorf("%s, franz-go: fetch offsets: %w", when, err)
	}
	var wrong []string
	for p := range int32(groupPartitions) {
		o, ok := committed.Lookup(s.topic, p)
		switch {
		case !ok:
			wrong = append(wrong, fmt.Sprintf("partition %d: none, want %d", p, s.ends[p]))
		case o.At != s.ends[p]:
			wrong = append(wrong, fmt.Sprintf("partition %d: %d, want %d", p, o.At, s.ends[p]))
		}
	}
	if len(wrong) > 0 {
		return fmt.Errorf("%s, the committed offsets are not the log end offsets: %s", when, strings.Join(wrong, "; "))
	}
	return nil
}
