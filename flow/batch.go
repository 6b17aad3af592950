package flow

// Batch mode: running a topology over a bounded range of offsets.
//
// With Config.Batch set, each task reads each of its input partitions
// over a range: from where the group's committed offset is (or the log
// start) to a bound, and finishes once it has read every range. Then its
// watermark goes to the end of time (math.MaxInt64), as a bounded source
// in Flink emits a final watermark: every window closes, stream-stream
// join buffers expire, event-time timers fire. An instance's Run returns
// once every task assigned to it has finished and committed.
//
// Runs. A batch run is the time during which the application's group
// has members. The group's leader decides it (balancer.go): the members
// say which run they take part in when they join, and the leader sends
// the run of the members, or a new one when none has any (the first
// instances of a run), with every assignment. A task keeps what it knows
// of the run in a small store of its own, logged like any other (kept in
// memory, restored in full when the task opens): the run, the bounds of
// its input partitions, the end markers it has read, where each input
// ended, and whether it has finished. A task opened again in the same
// run, on this instance or another after a rebalance, goes on from
// there (a finished task stays finished, at no cost but its restore); a
// task opened in a new run forgets the last run and takes new bounds.
//
// Bounds. The bound of a source topic's partition is listed when the task
// first opens in the run: its last stable offset (the end a read_committed
// consumer sees), or with Batch.Until the first offset whose timestamp is
// at or after it, no further than the last stable offset. A partition has
// ended when the task has read up to its bound: a record (data, or a
// transaction marker, which the consumer keeps in batch mode to know
// where it stands) at the offset before the bound, or one past it, has
// come; or the group's committed offset (the log start without one) is at
// or after the bound when the task opens.
//
// Repartition topics. A task reading a repartition topic cannot know its
// end from offsets: the upstream tasks, here or on other instances, are
// still writing it. So a task writes an end marker to every partition of
// every repartition topic its sub-topology writes, in its transaction
// under exactly-once, once nothing more can reach the topic from it:
//
//   - early, when no timed operator (a window, a stream-stream join's
//     buffers, a processor's timers: node.timed) is on a path from the
//     task's inputs to the topic's sink, and every input on such a path
//     (a source node among the sink's ancestors) has ended: records reach
//     a sink only along the graph's edges, from records of those inputs,
//     so none can come; operators sharing a store send nothing to each
//     other (see sinkInputs);
//   - otherwise when the task finishes, after its final watermark, whose
//     windows and timers may emit into the topic.
//
// This is what lets a foreign-key join end: its left side writes the
// subscriptions, read by its right side, which writes the responses,
// read by the left. The subscriptions come from the left table alone, so
// their markers are written once the left table's input has ended; the
// right side then ends, its responses' markers are written, and the left
// side ends. A topology is refused only when some repartition topic still
// waits for its own end (batchGraph.cycle): e.g. a stream-stream join
// above a foreign-key join's left table, whose subscriptions then wait
// for the left side to finish, which waits for the responses.
//
// The partition of a repartition topic has ended once the markers of
// this run from every upstream task (as many as the upstream
// sub-topology's partitions) have come; a task finishes once all its
// inputs have ended. The markers are read by the
// runtime and never reach operators, in batch mode or not; markers of
// other runs are dropped. The end marker, a record with neither key nor
// value and one header:
//
//	key     "flow.end"
//	value   byte       1, the version of this encoding
//	        8 bytes    the batch run id, big-endian (signed)
//	        4 bytes    the sub-topology of the task that wrote it, big-endian
//	        4 bytes    the partition of that task, big-endian
//
// These bytes are part of the wire format: instances of other versions
// read them.
//
// Offsets. Records past a partition's end are never processed, and no
// offset past it is committed: fetched records past it are dropped, the
// partition's fetching is paused (kgo.PauseFetchPartitions), and since
// franz-go commits the offset after the last record polled (under
// exactly-once, GroupTransactSession.End commits UncommittedOffsets), the
// commit requests are rewritten (kgo.PreTxnCommitFnContext,
// kgo.PreCommitFnContext) to commit no further than each ended
// partition's end. The next run starts where this one ended.
//
// The batch store's keys:
//
//	"run"                      the run id (8 bytes, big-endian)
//	"bound/<topic>"            a source topic's bound (8 bytes)
//	"end/<topic>/<sub>_<p>"    the end marker of upstream task <sub>_<p> came
//	"ended/<topic>"            the input ended, its offset then (8 bytes)
//	"marked/<topic>"           the task wrote its end markers to a
//	                           repartition topic
//	"finished"                 the task has finished
//
// Not supported: topologies whose repartition topics wait for each
// other's end in a cycle (see above), which no end marker can settle; New
// refuses them in batch mode.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// endHeader is the header of an end marker; endMarkerVersion the version
// of its value's encoding.
const (
	endHeader        = "flow.end"
	endMarkerVersion = 1
	endMarkerSize    = 17
)

// endMarker is what an end marker says: the run, and the task that
// wrote it (which writes no more to the topic in the run).
type endMarker struct {
	run  int64
	from taskID
}

func (m endMarker) encode() []byte {
	b := make([]byte, 0, endMarkerSize)
	b = append(b, endMarkerVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(m.run))
	b = binary.BigEndian.AppendUint32(b, uint32(m.from.sub))
	return binary.BigEndian.AppendUint32(b, uint32(m.from.partition))
}

// errEndMarker says an end marker's header is malformed.
var errEndMarker = errors.New("flow: malformed end marker")

func decodeEndMarker(b []byte) (endMarker, error) {
	if len(b) != endMarkerSize || b[0] != endMarkerVersion {
		return endMarker{}, fmt.Errorf("%w: %d bytes, version %v", errEndMarker, len(b), b[:min(len(b), 1)])
	}
	sub, partition := binary.BigEndian.Uint32(b[9:13]), binary.BigEndian.Uint32(b[13:17])
	if sub > 1<<20 || partition > 1<<31-1 {
		return endMarker{}, fmt.Errorf("%w: task %d_%d", errEndMarker, sub, partition)
	}
	return endMarker{run: int64(binary.BigEndian.Uint64(b[1:9])), from: taskID{sub: int(sub), partition: int32(partition)}}, nil
}

// endMarkerOf returns the value of a record's end marker header, if it
// has one.
func endMarkerOf(r *kgo.Record) ([]byte, bool) {
	for _, h := range r.Headers {
		if h.Key == endHeader {
			return h.Value, true
		}
	}
	return nil, false
}

// newBatchRun returns the id of a new batch run: the time, which no
// earlier run of the group has (never 0).
func newBatchRun() int64 { return max(time.Now().UnixNano(), 1) }

// batchStoreName is the name of a sub-topology's batch store.
func batchStoreName(sub int) string { return fmt.Sprintf("flow-batch-%d", sub) }

// Keys of the batch store.
const (
	batchKeyRun       = "run"
	batchKeyFinished  = "finished"
	batchPrefixBound  = "bound/"
	batchPrefixEnd    = "end/"
	batchPrefixEnded  = "ended/"
	batchPrefixMarked = "marked/"
)

// batchGraph is how sub-topologies feed each other through repartition
// topics (full names), and when a task may write a topic's end markers.
type batchGraph struct {
	// writer maps each repartition topic to the sub-topology writing it.
	writer map[string]int
	// writes maps each sub-topology to the repartition topics it writes.
	writes map[int][]string
	// inputs maps each sub-topology to the topics it reads.
	inputs map[int][]string
	// early maps the repartition topics whose end markers a task writes
	// before it finishes to the inputs they wait for: the task's inputs
	// whose records can reach the topic's sink. A topic below a timed
	// operator is not in it: its markers wait for the task to finish.
	early map[string][]string
	// cycle is set when some repartition topic waits, through the
	// topics its markers wait for, for itself: then no end marker can
	// settle it.
	cycle bool
}

// newBatchGraph reads a built topology's repartition edges.
func newBatchGraph(top *Topology, appID string) batchGraph {
	g := batchGraph{writer: map[string]int{}, writes: map[int][]string{}, inputs: map[int][]string{}, early: map[string][]string{}}
	fullName := func(n *node, topic string) string {
		if n.repartition {
			return RepartitionTopic(appID, topic)
		}
		return topic
	}
	for _, n := range top.nodes {
		for _, topic := range n.topics {
			g.inputs[n.sub] = append(g.inputs[n.sub], fullName(n, topic))
		}
	}
	for _, n := range top.nodes {
		if n.kind != kindRepartitionSink {
			continue
		}
		topic := RepartitionTopic(appID, n.sinkTopic)
		g.writer[topic] = n.sub
		g.writes[n.sub] = append(g.writes[n.sub], topic)
		if inputs, ok := sinkInputs(n, fullName); ok {
			g.early[topic] = inputs
		}
	}
	g.cycle = g.findCycle()
	return g
}

// sinkInputs returns the input topics whose records can reach a
// repartition sink: those of the source nodes among its ancestors in its
// sub-topology. Records reach a sink only along the graph's edges:
// operators that share a store run in one task (Topology.build) but
// send nothing to each other, and an operator sends only to its
// children (a foreign-key join's subscribing operator's child is the
// subscription sink; the response source's operators reach the join's
// result, never that sink). ok is false when a timed operator is among
// the ancestors: what it emits at the task's final watermark can reach
// the sink after its inputs have ended.
func sinkInputs(sink *node, fullName func(*node, string) string) (inputs []string, ok bool) {
	seen := map[*node]bool{}
	stack := slices.Clone(sink.parents)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		if n.timed {
			return nil, false
		}
		if len(n.topics) > 0 {
			for _, topic := range n.topics {
				inputs = append(inputs, fullName(n, topic))
			}
			continue // a source: its parent, if any, is another sub-topology's sink
		}
		stack = append(stack, n.parents...)
	}
	slices.Sort(inputs)
	return slices.Compact(inputs), true
}

// waitsFor returns the repartition topics whose end a repartition
// topic's end markers wait for: those among the inputs its early markers
// wait for, or among all its writer's inputs.
func (g batchGraph) waitsFor(topic string) []string {
	inputs, ok := g.early[topic]
	if !ok {
		inputs = g.inputs[g.writer[topic]]
	}
	var out []string
	for _, in := range inputs {
		if _, repartition := g.writer[in]; repartition {
			out = append(out, in)
		}
	}
	return out
}

// findCycle reports whether a repartition topic waits for itself.
func (g batchGraph) findCycle() bool {
	const (
		unseen = iota
		visiting
		visited
	)
	state := map[string]int{}
	var visit func(topic string) bool
	visit = func(topic string) bool {
		switch state[topic] {
		case visiting:
			return true
		case visited:
			return false
		}
		state[topic] = visiting
		for _, up := range g.waitsFor(topic) {
			if visit(up) {
				return true
			}
		}
		state[topic] = visited
		return false
	}
	for _, topic := range slices.Sorted(maps.Keys(g.writer)) {
		if visit(topic) {
			return true
		}
	}
	return false
}

// endsEarly reports whether a task may write a repartition topic's end
// markers before it finishes: the topic is early and every input it
// waits for has ended.
func (g batchGraph) endsEarly(topic string, ended func(input string) bool) bool {
	inputs, ok := g.early[topic]
	return ok && allEnded(inputs, ended)
}

// allEnded reports whether every topic has ended.
func allEnded(topics []string, ended func(string) bool) bool {
	for _, topic := range topics {
		if !ended(topic) {
			return false
		}
	}
	return true
}

// withBatchStores returns a copy of a built topology with a batch store
// for each sub-topology (the caller's topology is left as it is).
func withBatchStores(top *Topology) *Topology {
	c := *top
	c.stores = slices.Clone(top.stores)
	for sub := range top.subTopologies() {
		c.stores = append(c.stores, &storeDef{name: batchStoreName(sub), kind: keyValueStore, logged: true,
			sub: sub, inMemory: true, internal: true})
	}
	return &c
}

// taskBatch is a task's progress in the batch run, as its batch store
// holds it.
type taskBatch struct {
	st  *taskStore
	run int64
	// bounds are the source topics' bounds; ended the offsets at which
	// the inputs (by topic) ended; ends the upstream tasks whose end
	// markers came, by repartition topic.
	bounds map[string]int64
	ended  map[string]int64
	ends   map[string]map[taskID]bool
	// marked are the repartition topics the task has written its end
	// markers to.
	marked   map[string]bool
	finished bool
}

// load reads the batch store; it reports whether it holds run.
func (b *taskBatch) load(run int64) (bool, error) {
	v, found, err := b.st.kv.Get([]byte(batchKeyRun))
	if err != nil || !found || len(v) != 8 || int64(binary.BigEndian.Uint64(v)) != run {
		return false, err
	}
	b.run = run
	err = b.st.kv.Range(nil, nil, func(k, v []byte) bool {
		key := string(k)
		switch {
		case key == batchKeyFinished:
			b.finished = true
		case strings.HasPrefix(key, batchPrefixBound) && len(v) == 8:
			b.bounds[key[len(batchPrefixBound):]] = int64(binary.BigEndian.Uint64(v))
		case strings.HasPrefix(key, batchPrefixEnded) && len(v) == 8:
			b.ended[key[len(batchPrefixEnded):]] = int64(binary.BigEndian.Uint64(v))
		case strings.HasPrefix(key, batchPrefixMarked):
			b.marked[key[len(batchPrefixMarked):]] = true
		case strings.HasPrefix(key, batchPrefixEnd):
			topic, task, ok := strings.Cut(key[len(batchPrefixEnd):], "/")
			if id, valid := parseTaskID(task); ok && valid {
				if b.ends[topic] == nil {
					b.ends[topic] = map[taskID]bool{}
				}
				b.ends[topic][id] = true
			}
		}
		return true
	})
	return true, err
}

// reset forgets an earlier run and starts run with bounds.
func (b *taskBatch) reset(run int64, bounds map[string]int64) error {
	var keys [][]byte
	if err := b.st.kv.Range(nil, nil, func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return true
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.st.put(k, nil); err != nil {
			return err
		}
	}
	b.run, b.bounds, b.finished = run, bounds, false
	b.ended, b.ends, b.marked = map[string]int64{}, map[string]map[taskID]bool{}, map[string]bool{}
	for _, topic := range slices.Sorted(maps.Keys(bounds)) {
		if err := b.st.put([]byte(batchPrefixBound+topic), binary.BigEndian.AppendUint64(nil, uint64(bounds[topic]))); err != nil {
			return err
		}
	}
	return b.st.put([]byte(batchKeyRun), binary.BigEndian.AppendUint64(nil, uint64(run)))
}

// end notes that an input ended at offset.
func (b *taskBatch) end(topic string, offset int64) error {
	if _, ok := b.ended[topic]; ok {
		return nil
	}
	b.ended[topic] = offset
	return b.st.put([]byte(batchPrefixEnded+topic), binary.BigEndian.AppendUint64(nil, uint64(offset)))
}

// sawEnd notes the end marker of an upstream task on a repartition
// topic; it reports whether it is new.
func (b *taskBatch) sawEnd(topic string, from taskID) (bool, error) {
	if b.ends[topic][from] {
		return false, nil
	}
	if b.ends[topic] == nil {
		b.ends[topic] = map[taskID]bool{}
	}
	b.ends[topic][from] = true
	return true, b.st.put([]byte(batchPrefixEnd+topic+"/"+from.String()), []byte{1})
}

// batchState is the application's side of batch mode.
type batchState struct {
	graph batchGraph
	// subPartitions are the sub-topologies' partition counts (their
	// task counts), set by setUpTopics.
	subPartitions []int32
	// mu guards limits: by input partition, the offset it ended at, past
	// which no commit goes.
	mu     sync.Mutex
	limits map[topicPartition]int64
	// assigned says an assignment came: before it, the instance has no
	// tasks because it was given none yet. App.assignMu guards it.
	assigned bool
}

// clampTxnCommit rewrites a transaction's offset commit so that no
// partition's offset passes its end.
func (a *App) clampTxnCommit(req *kmsg.TxnOffsetCommitRequest) error {
	a.batch.mu.Lock()
	defer a.batch.mu.Unlock()
	for i := range req.Topics {
		t := &req.Topics[i]
		for j := range t.Partitions {
			a.clamp(t.Topic, t.Partitions[j].Partition, &t.Partitions[j].Offset, &t.Partitions[j].LeaderEpoch)
		}
	}
	return nil
}

// clampCommit is clampTxnCommit for an offset commit (at least once).
func (a *App) clampCommit(req *kmsg.OffsetCommitRequest) error {
	a.batch.mu.Lock()
	defer a.batch.mu.Unlock()
	for i := range req.Topics {
		t := &req.Topics[i]
		for j := range t.Partitions {
			a.clamp(t.Topic, t.Partitions[j].Partition, &t.Partitions[j].Offset, &t.Partitions[j].LeaderEpoch)
		}
	}
	return nil
}

// clamp lowers an offset to be committed to its partition's end, if the
// partition has ended before it (the leader epoch then unknown).
// REQUIRES: a.batch.mu is held.
func (a *App) clamp(topic string, partition int32, offset *int64, epoch *int32) {
	if limit, ok := a.batch.limits[topicPartition{topic, partition}]; ok && *offset > limit {
		*offset, *epoch = limit, -1
	}
}

// openBatch loads the batch state of opened tasks, or starts the run's
// for those that have none of it: their bounds are listed, and the
// committed offsets tell which inputs have nothing to read. Writes go to
// the step's transaction.
func (a *App) openBatch(ctx context.Context, opened map[taskID]*taskState) error {
	run := a.batchRun.Load()
	if run == 0 {
		return errors.New("flow: batch mode: no batch run from the group's leader (a member without batch mode?)")
	}
	var fresh []*taskState
	for _, id := range slices.SortedFunc(maps.Keys(opened), compareTasks) {
		st := opened[id]
		st.batch = &taskBatch{st: st.stores[batchStoreName(id.sub)], bounds: map[string]int64{},
			ended: map[string]int64{}, ends: map[string]map[taskID]bool{}, marked: map[string]bool{}}
		if st.batch.st == nil {
			return fmt.Errorf("flow: task %s has no batch store", id)
		}
		same, err := st.batch.load(run)
		if err != nil {
			return fmt.Errorf("flow: task %s: batch store: %w", id, err)
		}
		if !same {
			fresh = append(fresh, st)
		}
	}
	if len(fresh) > 0 {
		bounds, err := a.listBatchBounds(ctx, fresh)
		if err != nil {
			return err
		}
		for _, st := range fresh {
			if err := st.batch.reset(run, bounds[st.id]); err != nil {
				return fmt.Errorf("flow: task %s: batch store: %w", st.id, err)
			}
			a.logger.Info("batch range", "task", st.id.String(), "run", run, "bounds", bounds[st.id])
		}
	}
	committed, err := a.committedStarts(ctx, opened)
	if err != nil {
		return err
	}
	for _, st := range opened {
		for topic, bound := range st.batch.bounds {
			if at, ok := committed[topicPartition{topic, st.id.partition}]; ok && at >= bound {
				if err := st.batch.end(topic, at); err != nil {
					return err
				}
			}
		}
		a.pauseEnded(st)
	}
	return nil
}

// listBatchBounds lists the bounds of the tasks' source partitions.
func (a *App) listBatchBounds(ctx context.Context, tasks []*taskState) (map[taskID]map[string]int64, error) {
	set := map[string]bool{}
	for _, st := range tasks {
		for topic, n := range st.sources {
			if !n.repartition {
				set[topic] = true
			}
		}
	}
	topics := slices.Sorted(maps.Keys(set))
	out := make(map[taskID]map[string]int64, len(tasks))
	for _, st := range tasks {
		out[st.id] = map[string]int64{}
	}
	if len(topics) == 0 {
		return out, nil
	}
	// The last stable offsets: what a read_committed consumer reaches.
	ends, err := a.admin.ListCommittedOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("flow: batch bounds: %w", err)
	}
	var until kadm.ListedOffsets
	if u := a.cfg.Batch.Until; !u.IsZero() {
		if until, err = a.admin.ListOffsetsAfterMilli(ctx, u.UnixMilli(), topics...); err == nil {
			err = until.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("flow: batch bounds at %v: %w", u, err)
		}
	}
	for _, st := range tasks {
		for _, topic := range topics {
			if n := st.sources[topic]; n == nil || n.repartition {
				continue
			}
			end, ok := ends.Lookup(topic, st.id.partition)
			if !ok {
				return nil, fmt.Errorf("flow: batch bounds: no end offset for %s/%d", topic, st.id.partition)
			}
			bound := end.Offset
			if o, ok := until.Lookup(topic, st.id.partition); ok && o.Offset >= 0 {
				bound = min(bound, o.Offset)
			}
			out[st.id][topic] = bound
		}
	}
	return out, nil
}

// committedStarts returns where the tasks' source partitions start: the
// group's committed offsets, or the log start offsets without one.
func (a *App) committedStarts(ctx context.Context, tasks map[taskID]*taskState) (map[topicPartition]int64, error) {
	set := map[string]bool{}
	for _, st := range tasks {
		for topic := range st.batch.bounds {
			set[topic] = true
		}
	}
	out := map[topicPartition]int64{}
	if len(set) == 0 {
		return out, nil
	}
	topics := slices.Sorted(maps.Keys(set))
	starts, err := a.admin.ListStartOffsets(ctx, topics...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("flow: batch: start offsets: %w", err)
	}
	committed, err := a.admin.FetchOffsets(ctx, a.cfg.ApplicationID)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("flow: batch: committed offsets: %w", err)
	}
	for _, st := range tasks {
		for topic := range st.batch.bounds {
			tp := topicPartition{topic, st.id.partition}
			if c, ok := committed.Lookup(topic, st.id.partition); ok && c.Err == nil && c.At >= 0 {
				out[tp] = c.At
			} else if s, ok := starts.Lookup(topic, st.id.partition); ok && s.Err == nil {
				out[tp] = s.Offset
			}
		}
	}
	return out, nil
}

// pauseEnded stops fetching the task's ended inputs, and keeps commits
// from passing their ends.
func (a *App) pauseEnded(st *taskState) {
	if len(st.batch.ended) == 0 {
		return
	}
	pause := map[string][]int32{}
	a.batch.mu.Lock()
	for topic, offset := range st.batch.ended {
		a.batch.limits[topicPartition{topic, st.id.partition}] = offset
		pause[topic] = []int32{st.id.partition}
	}
	a.batch.mu.Unlock()
	if a.client != nil {
		a.client.PauseFetchPartitions(pause)
	}
}

// batchRecord handles a record of a task in batch mode before it is
// processed: it reports whether to process it. Transaction markers, end
// markers and records past an input's end are not processed; an input
// ends at its bound or at its last upstream task's end marker.
// REQUIRES: a.tasksMu is held.
func (a *App) batchRecord(t *taskState, r *kgo.Record) (bool, error) {
	b := t.batch
	if _, ended := b.ended[r.Topic]; ended || b.finished {
		return false, nil
	}
	if marker, ok := endMarkerOf(r); ok && t.sources[r.Topic] != nil && t.sources[r.Topic].repartition {
		return false, a.sawEndMarker(t, r, marker)
	}
	if bound, ok := b.bounds[r.Topic]; ok && r.Offset >= bound {
		return false, a.inputEnded(t, r.Topic, bound)
	}
	return !r.Attrs.IsControl(), nil
}

// batchProcessed ends a source partition after the last record of its
// range (data or transaction marker), processed or not.
// REQUIRES: a.tasksMu is held.
func (a *App) batchProcessed(t *taskState, r *kgo.Record) error {
	if bound, ok := t.batch.bounds[r.Topic]; ok && r.Offset+1 >= bound {
		return a.inputEnded(t, r.Topic, bound)
	}
	return nil
}

// sawEndMarker counts an end marker of a repartition topic.
func (a *App) sawEndMarker(t *taskState, r *kgo.Record, value []byte) error {
	m, err := decodeEndMarker(value)
	if err != nil {
		a.logger.Warn("an unreadable end marker; dropped", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		return nil
	}
	if m.run != t.batch.run {
		return nil // of another run
	}
	writer, ok := a.batch.graph.writer[r.Topic]
	if !ok || m.from.sub != writer {
		return fmt.Errorf("flow: an end marker on %s from task %s, which does not write it", r.Topic, m.from)
	}
	if _, err := t.batch.sawEnd(r.Topic, m.from); err != nil {
		return err
	}
	if len(t.batch.ends[r.Topic]) >= int(a.batch.subPartitions[writer]) {
		return a.inputEnded(t, r.Topic, r.Offset+1)
	}
	return nil
}

// inputEnded notes that an input of a task ended at offset, and stops
// fetching it.
func (a *App) inputEnded(t *taskState, topic string, offset int64) error {
	if err := t.batch.end(topic, offset); err != nil {
		return err
	}
	a.pauseEnded(t)
	return nil
}

// finishTasks writes the end markers that open tasks may write: those
// of the repartition topics whose inputs have ended (batchGraph.early),
// and, for the tasks whose inputs have all ended, those of the others
// once the task has finished: its watermark goes to the end of time
// (windows close, join buffers expire, event-time timers fire), and it
// notes that it has finished.
// REQUIRES: a.tasksMu is held.
func (a *App) finishTasks() error {
	for _, id := range slices.SortedFunc(maps.Keys(a.tasks), compareTasks) {
		t := a.tasks[id]
		if t.batch == nil || t.batch.finished {
			continue
		}
		if err := a.markEarly(t); err != nil {
			return fmt.Errorf("flow: task %s: end markers: %w", id, err)
		}
		if len(t.batch.ended) < len(t.sources) {
			continue
		}
		if err := a.finish(t); err != nil {
			return fmt.Errorf("flow: task %s: finish: %w", id, err)
		}
	}
	return nil
}

// markEarly writes the end markers of the repartition topics no record
// of the task can reach any more.
func (a *App) markEarly(t *taskState) error {
	ended := func(input string) bool {
		_, ok := t.batch.ended[input]
		return ok
	}
	for _, topic := range a.batch.graph.writes[t.id.sub] {
		if !t.batch.marked[topic] && a.batch.graph.endsEarly(topic, ended) {
			if err := a.writeEndMarkers(t, topic); err != nil {
				return err
			}
		}
	}
	return nil
}

// finish finishes a task whose inputs have ended.
func (a *App) finish(t *taskState) error {
	if err := t.endInput(); err != nil {
		return err
	}
	for _, topic := range a.batch.graph.writes[t.id.sub] {
		if !t.batch.marked[topic] {
			if err := a.writeEndMarkers(t, topic); err != nil {
				return err
			}
		}
	}
	if err := t.batch.st.put([]byte(batchKeyFinished), []byte{1}); err != nil {
		return err
	}
	t.batch.finished = true
	a.logger.Info("task finished its batch range", "task", t.id.String(), "run", t.batch.run, "ended", t.batch.ended)
	return nil
}

// writeEndMarkers writes the task's end marker to every partition of a
// repartition topic, after the records it wrote there (in the step's
// transaction under exactly-once), and notes it.
func (a *App) writeEndMarkers(t *taskState, topic string) error {
	n, err := a.partitionCount(a.work, topic)
	if err != nil {
		return err
	}
	marker := []kgo.RecordHeader{{Key: endHeader, Value: endMarker{run: t.batch.run, from: t.id}.encode()}}
	for p := range int32(n) {
		a.produce(&kgo.Record{Topic: topic, Partition: p, Headers: marker, Timestamp: time.Now()}, a.promise)
	}
	if err := t.batch.st.put([]byte(batchPrefixMarked+topic), []byte{1}); err != nil {
		return err
	}
	t.batch.marked[topic] = true
	return nil
}

// batchDone reports whether this instance may end its batch run: an
// assignment came and is applied, and every task assigned here is open
// and finished (and the step that finished them committed).
func (a *App) batchDone() bool {
	a.assignMu.Lock()
	if !a.batch.assigned || a.pending != nil {
		a.assignMu.Unlock()
		return false
	}
	active := maps.Clone(a.active)
	a.assignMu.Unlock()
	a.tasksMu.Lock()
	defer a.tasksMu.Unlock()
	for id := range active {
		t := a.tasks[id]
		if t == nil || t.batch == nil || !t.batch.finished || t.dirty {
			return false
		}
	}
	return true
}
