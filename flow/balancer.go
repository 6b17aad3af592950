package flow

// The group balancer of flow applications.
//
// Instances share an application's tasks through its consumer group
// (Kafka's classic protocol, eager: every rebalance revokes every
// partition, then assigns). The leader's balancer assigns tasks, not
// partitions: task (sub-topology s, partition p) takes partition p of
// every input topic of s, so co-partitioned topics meet in one task. Each
// member tells, in its subscription's user data, which tasks it ran and
// which it has local state for, with the position of that state; the
// leader places the tasks where their state is, and chooses the standby
// replicas of the stateful tasks, which it sends in each member's
// assignment's user data. Only the leader computes; the others read what
// it decided, so no two members need to agree on a computation from their
// own views of the group (which a scheme computed by every member from a
// description of the group, fetched after each rebalance, would need, and
// it could not move tasks to where their standbys are).
//
// The plan (planTasks), over the tasks and the members ordered by id:
//
// Steps 1 to 3 run for each sub-topology in turn (the stateful ones
// first), so that the work of each is spread over the members:
//
//  1. Capacity: each member runs T/M of its T tasks, and T mod M members
//     one more: those with the fewest tasks so far, then those that ran
//     the most of them before.
//  2. Order: stateful tasks are placed by regret, the most first: the gap
//     between the two most advanced states of the task among the members,
//     about what the second would restore were the task given to it.
//     Stateless tasks keep their order.
//  3. Place: each task goes to the member with room holding its most
//     advanced state (usually the member that ran it, else its standby or
//     an earlier owner), then to the member that ran it (stateless tasks
//     stay where they were), then to the one with the fewest tasks.
//  4. Standbys: each stateful task gets min(StandbyReplicas, M-1) of the
//     members not running it, preferring those below their share (rounded
//     up) of all standbys, then those with its state (the most advanced
//     first), then those with the fewest standbys. The choice is greedy;
//     standbys are then moved from members past their share to members
//     below it, where the task allows.
//
// A member's position for a task is the sum of the changelog offsets of
// the task's checkpoint: for the same changelogs, a larger sum is a state
// closer to their ends.
//
// The subscription's user data (version 1), after the consumer protocol's
// topics:
//
//	byte      1, the version of this encoding
//	uvarint   count of tasks
//	count times, tasks ascending:
//	  uvarint   sub-topology
//	  uvarint   partition
//	  varint    position (-1: the member has no saved state of the task)
//	  byte      1 if the member ran the task in the last generation, else 0
//
// The assignment's user data (version 1), after the consumer protocol's
// topics and partitions:
//
//	byte      1, the version of this encoding
//	uvarint   count of standby tasks
//	count times, ascending:
//	  uvarint   sub-topology
//	  uvarint   partition
//
// Version 2 of each, written in batch mode (batch.go) once the member
// knows its batch run, is version 1 with the version byte 2 and one more
// field at the end:
//
//	varint    batch run id (never 0)
//
// In a subscription it is the run the member is part of; in an
// assignment, the run the leader decided (the members' run, or a new one
// when no member has any): every task of the group works for one run.
//
// Both are read by other instances of the application, maybe of another
// version: they change only compatibly, with a new version number. A
// member that cannot read the other's (an unknown version) takes it as
// empty. The group also offers the range balancer, second: a group whose
// members do not all speak this one (during an upgrade from a version
// without it) falls back to it, without standbys.

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// balancerProtocol is the name of the balancer in the group protocol.
const balancerProtocol = "weir-flow"

const (
	subscriptionVersion = 1
	assignmentVersion   = 1
	// userDataRunVersion is the version of both encodings with a batch
	// run id.
	userDataRunVersion = 2
)

// balancer is the application's kgo.GroupBalancer.
type balancer struct {
	a *App
	// mu guards standbys: the standby tasks of the last assignment
	// received, which the assignment callback takes.
	mu       sync.Mutex
	standbys []taskID
}

func (b *balancer) ProtocolName() string { return balancerProtocol }
func (b *balancer) IsCooperative() bool  { return false }

// JoinGroupMetadata sends the member's subscription: its topics, and the
// tasks it ran and holds state of.
func (b *balancer) JoinGroupMetadata(interests []string, _ map[string][]int32, _ int32) []byte {
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = interests
	meta.UserData = encodeGroupSubscription(b.a.memberClaims(), b.a.batchRun.Load())
	return meta.AppendTo(nil)
}

// ParseSyncAssignment reads the member's partitions, and keeps its
// standby tasks for the assignment callback.
func (b *balancer) ParseSyncAssignment(assignment []byte) (map[string][]int32, error) {
	var ka kmsg.ConsumerMemberAssignment
	if err := ka.ReadFrom(assignment); err != nil {
		return nil, fmt.Errorf("flow: assignment: %w", err)
	}
	standbys, run, err := decodeGroupAssignment(ka.UserData)
	if err != nil {
		return nil, err
	}
	if run != 0 {
		b.a.batchRun.Store(run)
	}
	b.mu.Lock()
	b.standbys = standbys
	b.mu.Unlock()
	out := make(map[string][]int32, len(ka.Topics))
	for _, t := range ka.Topics {
		out[t.Topic] = t.Partitions
	}
	return out, nil
}

// takeStandbys returns the standby tasks of the last assignment, once.
func (b *balancer) takeStandbys() []taskID {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.standbys
	b.standbys = nil
	return s
}

func (b *balancer) MemberBalancer(members []kmsg.JoinGroupResponseMember) (kgo.GroupMemberBalancer, map[string]struct{}, error) {
	cb, err := kgo.NewConsumerBalancer(b, members)
	if err != nil {
		return nil, nil, err
	}
	return cb, cb.MemberTopics(), nil
}

// Balance is the leader's: it plans the tasks and turns the plan into
// each member's partitions and standbys.
func (b *balancer) Balance(cb *kgo.ConsumerBalancer, topics map[string]int32) kgo.IntoSyncAssignment {
	var (
		members []memberState
		run     int64
	)
	cb.EachMember(func(m *kmsg.JoinGroupResponseMember, meta *kmsg.ConsumerMemberMetadata) {
		ms := memberState{id: m.MemberID}
		sub, memberRun, err := decodeGroupSubscription(meta.UserData)
		if err != nil {
			b.a.logger.Warn("a member's subscription is unreadable; taken as empty", "member", m.MemberID, "err", err)
		}
		ms.tasks = sub
		run = max(run, memberRun)
		members = append(members, ms)
	})
	if b.a.cfg.Batch != nil && run == 0 {
		run = newBatchRun()
		b.a.logger.Info("a new batch run", "run", run)
	}
	tasks := b.a.tasksOf(topics)
	plan := planTasks(tasks, members, b.a.cfg.StandbyReplicas, b.a.stateful)
	out := make(syncAssignment, 0, len(members))
	for _, m := range members {
		ka := kmsg.NewConsumerMemberAssignment()
		byTopic := map[string][]int32{}
		for _, id := range plan.active[m.id] {
			for topic, n := range topics {
				if sub, ok := b.a.readers[topic]; ok && sub == id.sub && id.partition < n {
					byTopic[topic] = append(byTopic[topic], id.partition)
				}
			}
		}
		for _, topic := range slices.Sorted(maps.Keys(byTopic)) {
			at := kmsg.NewConsumerMemberAssignmentTopic()
			at.Topic, at.Partitions = topic, slices.Sorted(slices.Values(byTopic[topic]))
			ka.Topics = append(ka.Topics, at)
		}
		ka.UserData = encodeGroupAssignment(plan.standby[m.id], run)
		sa := kmsg.NewSyncGroupRequestGroupAssignment()
		sa.MemberID, sa.MemberAssignment = m.id, ka.AppendTo(nil)
		out = append(out, sa)
	}
	b.a.logger.Info("tasks balanced", "members", len(members), "active", plan.active, "standby", plan.standby)
	return out
}

// syncAssignment is the members' assignments, by member id.
type syncAssignment []kmsg.SyncGroupRequestGroupAssignment

func (s syncAssignment) IntoSyncAssignment() []kmsg.SyncGroupRequestGroupAssignment { return s }

// tasksOf returns the tasks of the topics' partitions, sorted.
func (a *App) tasksOf(topics map[string]int32) []taskID {
	set := map[taskID]bool{}
	for topic, n := range topics {
		sub, ok := a.readers[topic]
		if !ok {
			continue
		}
		for p := range n {
			set[taskID{sub: sub, partition: p}] = true
		}
	}
	return slices.SortedFunc(maps.Keys(set), compareTasks)
}

// stateful reports whether task id has logged stores on disk: state
// that an instance keeps, and a standby keeps warm.
func (a *App) stateful(id taskID) bool {
	return slices.ContainsFunc(a.top.storesOf(id.sub), func(s *storeDef) bool { return s.logged && !s.inMemory })
}

func compareTasks(x, y taskID) int {
	return cmp.Or(cmp.Compare(x.sub, y.sub), cmp.Compare(x.partition, y.partition))
}

// taskClaim is what a member says of a task in its subscription.
type taskClaim struct {
	// position is that of its saved state of the task (-1: none).
	position int64
	// active says it ran the task in the last generation.
	active bool
}

// memberState is a member as the leader sees it.
type memberState struct {
	id    string
	tasks map[taskID]taskClaim
}

// position returns the member's position for a task, -1 if it holds no
// state of it.
func (m memberState) position(id taskID) int64 {
	if c, ok := m.tasks[id]; ok {
		return c.position
	}
	return -1
}

// taskPlan is where tasks run: by member id, its active tasks and its
// standby tasks, sorted.
type taskPlan struct {
	active, standby map[string][]taskID
}

// planTasks places tasks on members (see the top of this file).
func planTasks(tasks []taskID, members []memberState, standbys int, stateful func(taskID) bool) taskPlan {
	members = slices.Clone(members)
	slices.SortFunc(members, func(x, y memberState) int { return cmp.Compare(x.id, y.id) })
	plan := taskPlan{active: map[string][]taskID{}, standby: map[string][]taskID{}}
	if len(members) == 0 {
		return plan
	}
	owner := map[taskID]int{}
	total := make([]int, len(members))
	groups := bySubTopology(tasks)
	// Stateful sub-topologies first: their tasks follow their state,
	// and the others, free to move, even the counts out.
	slices.SortStableFunc(groups, func(x, y []taskID) int { return cmp.Compare(boolRank(stateful(y[0])), boolRank(stateful(x[0]))) })
	for _, group := range groups {
		planSubTopology(group, members, stateful, owner, total, plan.active)
	}
	for _, m := range members {
		slices.SortFunc(plan.active[m.id], compareTasks)
	}
	planStandbys(tasks, members, min(standbys, len(members)-1), stateful, owner, plan.standby)
	return plan
}

// planStandbys gives each stateful task n standbys (step 4), in standby.
func planStandbys(tasks []taskID, members []memberState, n int, stateful func(taskID) bool, owner map[taskID]int, standby map[string][]taskID) {
	if n <= 0 {
		return
	}
	statefulTasks := 0
	for _, id := range tasks {
		if stateful(id) {
			statefulTasks++
		}
	}
	share := (statefulTasks*n + len(members) - 1) / len(members)
	count := make([]int, len(members))
	keeps := func(i int, id taskID) bool { return slices.Contains(standby[members[i].id], id) }
	for _, id := range tasks {
		if !stateful(id) {
			continue
		}
		for range n {
			pick := -1
			for i := range members {
				if i == owner[id] || keeps(i, id) {
					continue
				}
				if pick < 0 || cmp.Or(
					cmp.Compare(boolRank(count[i] >= share), boolRank(count[pick] >= share)),
					cmp.Compare(members[pick].position(id), members[i].position(id)),
					cmp.Compare(count[i], count[pick]),
				) < 0 {
					pick = i
				}
			}
			count[pick]++
			standby[members[pick].id] = append(standby[members[pick].id], id)
		}
	}
	// The choices above are greedy: the last tasks may find only members
	// past their share. Move standbys from those to members below it.
	for {
		over := slices.IndexFunc(count, func(c int) bool { return c > share })
		under := slices.IndexFunc(count, func(c int) bool { return c < share })
		if over < 0 || under < 0 {
			break
		}
		from := standby[members[over].id]
		k := slices.IndexFunc(from, func(id taskID) bool { return owner[id] != under && !keeps(under, id) })
		if k < 0 {
			break
		}
		id := from[k]
		standby[members[over].id] = slices.Delete(from, k, k+1)
		standby[members[under].id] = append(standby[members[under].id], id)
		count[over]--
		count[under]++
	}
	for _, m := range members {
		slices.SortFunc(standby[m.id], compareTasks)
	}
}

// bySubTopology splits sorted tasks by sub-topology.
func bySubTopology(tasks []taskID) [][]taskID {
	var out [][]taskID
	for i, id := range tasks {
		if i == 0 || id.sub != tasks[i-1].sub {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], id)
	}
	return out
}

// planSubTopology places the tasks of one sub-topology (steps 1 to 3),
// adding to owner, to total (the members' task counts) and to active.
func planSubTopology(tasks []taskID, members []memberState, stateful func(taskID) bool, owner map[taskID]int, total []int, active map[string][]taskID) {
	// 1. Capacity: the extra tasks go to the members with the fewest
	// tasks so far, then to those that ran the most of these.
	ran := make([]int, len(members))
	for i, m := range members {
		for _, id := range tasks {
			if m.tasks[id].active {
				ran[i]++
			}
		}
	}
	order := make([]int, len(members))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Or(cmp.Compare(total[x], total[y]), cmp.Compare(ran[y], ran[x])) })
	room := make([]int, len(members))
	for rank, i := range order {
		room[i] = len(tasks) / len(members)
		if rank < len(tasks)%len(members) {
			room[i]++
		}
	}
	// 2 and 3: each task, in turn, to the member with room that ranks
	// first: of a stateful task, the most advanced state, then the
	// member that ran it, then the fewest tasks; of a stateless task, the
	// member that ran it, then the fewest tasks.
	ranks := func(id taskID) func(i, j int) int {
		return func(i, j int) int {
			c := 0
			if stateful(id) {
				c = cmp.Compare(members[j].position(id), members[i].position(id))
			}
			return cmp.Or(c,
				cmp.Compare(boolRank(members[j].tasks[id].active), boolRank(members[i].tasks[id].active)),
				cmp.Compare(total[i], total[j]))
		}
	}
	for _, id := range byRegret(tasks, members, stateful) {
		pick := -1
		better := ranks(id)
		for i := range members {
			if room[i] > 0 && (pick < 0 || better(i, pick) < 0) {
				pick = i
			}
		}
		owner[id] = pick
		room[pick]--
		total[pick]++
		active[members[pick].id] = append(active[members[pick].id], id)
	}
}

// byRegret orders stateful tasks by what placing them elsewhere than on
// the member with their most advanced state would cost, the most first:
// the gap between the two most advanced positions among the members
// (no state counting as -1), which is about the number of changelog
// records the second would restore. A member that cannot run all the
// tasks it has the best state of keeps those the others would restore
// the most of. Stateless tasks keep their order.
func byRegret(tasks []taskID, members []memberState, stateful func(taskID) bool) []taskID {
	if len(tasks) == 0 || !stateful(tasks[0]) {
		return tasks
	}
	regret := make(map[taskID]int64, len(tasks))
	for _, id := range tasks {
		first, second := int64(-1), int64(-1)
		for _, m := range members {
			if p := m.position(id); p > first {
				first, second = p, first
			} else if p > second {
				second = p
			}
		}
		if len(members) == 1 {
			second = first
		}
		regret[id] = first - second
	}
	out := slices.Clone(tasks)
	slices.SortStableFunc(out, func(x, y taskID) int { return cmp.Compare(regret[y], regret[x]) })
	return out
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// memberClaims returns what this member says of its tasks when it joins:
// the tasks it holds state of, with their positions, and those it ran.
func (a *App) memberClaims() map[taskID]taskClaim {
	a.localMu.Lock()
	defer a.localMu.Unlock()
	out := make(map[taskID]taskClaim, len(a.local))
	for id, position := range a.local {
		out[id] = taskClaim{position: position}
	}
	for id := range a.ran {
		c, ok := out[id]
		if !ok {
			c.position = -1
		}
		c.active = true
		out[id] = c
	}
	return out
}

// encodeGroupSubscription encodes a member's claims, and its batch run
// (0: none, version 1).
func encodeGroupSubscription(tasks map[taskID]taskClaim, run int64) []byte {
	b := []byte{subscriptionVersion}
	if run != 0 {
		b[0] = userDataRunVersion
	}
	b = binary.AppendUvarint(b, uint64(len(tasks)))
	for _, id := range slices.SortedFunc(maps.Keys(tasks), compareTasks) {
		c := tasks[id]
		b = binary.AppendUvarint(b, uint64(id.sub))
		b = binary.AppendUvarint(b, uint64(id.partition))
		b = binary.AppendVarint(b, c.position)
		b = append(b, byte(boolRank(c.active)))
	}
	if run != 0 {
		b = binary.AppendVarint(b, run)
	}
	return b
}

// errUserData says a subscription's or assignment's user data is
// malformed.
var errUserData = errors.New("flow: malformed group user data")

// decodeGroupSubscription decodes a member's claims and batch run (0:
// none).
func decodeGroupSubscription(b []byte) (map[taskID]taskClaim, int64, error) {
	out := map[taskID]taskClaim{}
	if len(b) == 0 || b[0] != subscriptionVersion && b[0] != userDataRunVersion {
		return out, 0, nil // none, or a version this one does not read
	}
	r := userDataReader{b: b[1:]}
	count := r.uvarint()
	for i := uint64(0); i < count && r.err == nil; i++ {
		id := r.task()
		position := r.varint()
		active := r.byte()
		out[id] = taskClaim{position: position, active: active == 1}
	}
	run := r.run(b[0] == userDataRunVersion)
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d bytes after the tasks", errUserData, len(r.b))
	}
	if r.err != nil {
		return map[taskID]taskClaim{}, 0, r.err
	}
	return out, run, nil
}

// encodeGroupAssignment encodes a member's standby tasks, and the batch
// run (0: none, version 1).
func encodeGroupAssignment(standbys []taskID, run int64) []byte {
	b := []byte{assignmentVersion}
	if run != 0 {
		b[0] = userDataRunVersion
	}
	b = binary.AppendUvarint(b, uint64(len(standbys)))
	for _, id := range slices.SortedFunc(slices.Values(standbys), compareTasks) {
		b = binary.AppendUvarint(b, uint64(id.sub))
		b = binary.AppendUvarint(b, uint64(id.partition))
	}
	if run != 0 {
		b = binary.AppendVarint(b, run)
	}
	return b
}

// decodeGroupAssignment decodes a member's standby tasks and the batch
// run (0: none).
func decodeGroupAssignment(b []byte) ([]taskID, int64, error) {
	if len(b) == 0 || b[0] != assignmentVersion && b[0] != userDataRunVersion {
		return nil, 0, nil // none (the range balancer's), or a version this one does not read
	}
	r := userDataReader{b: b[1:]}
	count := r.uvarint()
	var out []taskID
	for i := uint64(0); i < count && r.err == nil; i++ {
		id := r.task()
		if r.err == nil {
			out = append(out, id)
		}
	}
	run := r.run(b[0] == userDataRunVersion)
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d bytes after the standbys", errUserData, len(r.b))
	}
	if r.err != nil {
		return nil, 0, r.err
	}
	return out, run, nil
}

// run reads the batch run id of version 2 (present), which is never 0.
func (r *userDataReader) run(present bool) int64 {
	if !present {
		return 0
	}
	run := r.varint()
	if r.err == nil && run == 0 {
		r.err = fmt.Errorf("%w: batch run 0", errUserData)
	}
	return run
}

// userDataReader reads the integers of group user data, keeping the
// first error.
type userDataReader struct {
	b   []byte
	err error
}

func (r *userDataReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: truncated integer", errUserData)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *userDataReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: truncated integer", errUserData)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *userDataReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = fmt.Errorf("%w: truncated", errUserData)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *userDataReader) task() taskID {
	sub, partition := r.uvarint(), r.uvarint()
	if r.err == nil && (sub > 1<<20 || partition > 1<<31-1) {
		r.err = fmt.Errorf("%w: task %d_%d", errUserData, sub, partition)
	}
	return taskID{sub: int(sub), partition: int32(partition)}
}
