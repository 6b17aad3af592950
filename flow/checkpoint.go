package flow

// Local state and its checkpoints.
//
// A task's local state lives in its directory, <state dir>/<application
// id>/<task>, as a store.DB: the task's stores and a checkpoint, the
// changelog offset (by store) up to which the stores reflect their
// changelogs (store/checkpoint.go gives its encoding). The state is kept
// when the task closes, so that when it starts again on this instance, as
// an active task or a standby, it reads only the changelog records after
// its checkpoint.
//
// Opening: a checkpoint is trusted when it has an offset for every logged
// store of the task kept on disk, each between the log start offset and
// the end of its changelog partition. Otherwise (no checkpoint, a store
// without offset, an offset before the start after records were deleted,
// or past the end after the topic was recreated) the directory is wiped
// and the stores restore their changelogs from the start. Stores kept in
// memory (InMemory) have no checkpoint: they restore in full whenever
// their task opens, and standbys leave them out.
//
// Writing, for an active task: its position in each changelog is the
// offset after the last record it produced there (from the produce
// results), or where its restore stopped. After each commit, a task whose
// position moved, or whose stores removed their checkpoint, sets a new
// one: one synced write per task and commit at most, none when nothing
// changed. Under exactly-once the stores hold the writes of the open
// transaction, which may abort: the DB is opened with
// ClearCheckpointOnWrite, so that the first write after a checkpoint
// removes it (unsynced, ordered before the write in Pebble's log); a crash
// in the middle of a transaction leaves no checkpoint, and the state is
// wiped and restored in full. When a transaction aborts, the tasks are
// closed: those that wrote have no checkpoint any more and restore in
// full, the others only the tail. Under at-least-once the checkpoint
// stays while the task writes, as Kafka Streams does: after a crash the
// stores may be ahead of it, which replaying the changelog from it
// tolerates (its records set values, they do not add to them), and the
// input records since the last commit are processed again, as
// at-least-once allows.
//
// A standby sets its checkpoint as it reads (at most once per commit
// interval) and when it closes.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/flow/store"
)

// taskState is a task open on this instance, active or standby: its
// stores, and where they stand in their changelogs.
type taskState struct {
	*task
	// changelogs maps each logged store to its changelog partition; a
	// standby leaves out the stores kept in memory (InMemory).
	changelogs map[string]topicPartition
	// positions maps each logged store to the offset after the last
	// changelog record it reflects: committed, for an active task.
	positions map[string]int64
	// memory holds the logged stores kept in memory: not checkpointed,
	// restored in full whenever the task opens.
	memory map[string]bool
	// saved says the DB's checkpoint holds positions.
	saved bool
	// dirty says the stores may hold writes not committed yet (an active
	// task in the middle of a step).
	dirty bool
	// batch is the task's progress in a batch run (nil outside batch
	// mode, and for standbys).
	batch *taskBatch
}

// stateful reports whether the task has logged stores.
func (s *taskState) stateful() bool { return len(s.changelogs) > 0 }

// positionSum is the sum of the positions of the task's stores on disk,
// which the balancer compares between instances holding state of the
// task.
func (s *taskState) positionSum() int64 {
	var sum int64
	for name, o := range s.positions {
		if !s.memory[name] {
			sum += o
		}
	}
	return sum
}

// save sets the checkpoint to the positions of the task's stores on
// disk.
func (s *taskState) save() error {
	offsets := make(map[string]int64, len(s.positions))
	for name, o := range s.positions {
		if !s.memory[name] {
			offsets[name] = o
		}
	}
	if err := s.db.SetCheckpoint(offsets); err != nil {
		return fmt.Errorf("flow: task %s: %w", s.id, err)
	}
	s.saved = true
	return nil
}

// changelogTopics returns the changelog topics of the tasks' logged
// stores, sorted.
func (a *App) changelogTopics(ids []taskID) []string {
	set := map[string]bool{}
	for _, id := range ids {
		for _, def := range a.top.storesOf(id.sub) {
			if def.logged {
				set[ChangelogTopic(a.cfg.ApplicationID, def.name)] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for topic := range set {
		out = append(out, topic)
	}
	slices.Sort(out)
	return out
}

// changelogBounds are the log start and end offsets of changelog
// partitions, listed together for the tasks being opened.
type changelogBounds struct {
	starts, ends kadm.ListedOffsets
}

// listBounds lists the start and end offsets of the changelogs of tasks.
func (a *App) listBounds(ctx context.Context, ids []taskID) (changelogBounds, error) {
	topics := a.changelogTopics(ids)
	if len(topics) == 0 {
		return changelogBounds{}, nil
	}
	ends, err := a.admin.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return changelogBounds{}, fmt.Errorf("flow: end offsets of changelogs: %w", err)
	}
	starts, err := a.admin.ListStartOffsets(ctx, topics...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return changelogBounds{}, fmt.Errorf("flow: start offsets of changelogs: %w", err)
	}
	return changelogBounds{starts: starts, ends: ends}, nil
}

// bounds returns the start and end offsets of a changelog partition.
func (b changelogBounds) bounds(tp topicPartition) (start, end int64, err error) {
	e, ok := b.ends.Lookup(tp.topic, tp.partition)
	if !ok || e.Err != nil {
		return 0, 0, fmt.Errorf("flow: changelog %s: no end offset: %v", tp, e.Err)
	}
	s, ok := b.starts.Lookup(tp.topic, tp.partition)
	if !ok || s.Err != nil {
		return 0, 0, fmt.Errorf("flow: changelog %s: no start offset: %v", tp, s.Err)
	}
	return s.Offset, e.Offset, nil
}

// openState opens the local state of task id, an active task's (whose
// stores write to out) or a standby's (out nil: its stores only restore).
// It checks the checkpoint against the changelogs' bounds: the positions
// start at its offsets if it is trusted, at the log start offsets after
// wiping the state otherwise. Stateless tasks keep their (empty) state
// in memory.
func (a *App) openState(id taskID, out output, bounds changelogBounds) (*taskState, error) {
	dir := ""
	if len(a.top.storesOf(id.sub)) > 0 {
		dir = a.taskDir(id)
	}
	active := out != nil
	if out == nil {
		out = standbyOutput{}
	}
	for wiped := false; ; wiped = true {
		_, statErr := os.Stat(dir)
		fresh := dir == "" || errors.Is(statErr, fs.ErrNotExist)
		db, err := store.Open(dir, store.Options{Logger: a.logger,
			ClearCheckpointOnWrite: active && a.cfg.Guarantee == ExactlyOnce})
		if err != nil {
			return nil, fmt.Errorf("flow: task %s: %w", id, err)
		}
		t, err := newTask(a.top, a.cfg.ApplicationID, id, db, out, taskClock{now: a.wallClock, idle: a.cfg.IdleTimeout}, a.logger)
		if err != nil {
			db.Close()
			return nil, err
		}
		s := &taskState{task: t, changelogs: map[string]topicPartition{}, positions: map[string]int64{}, memory: map[string]bool{}}
		for name, ts := range t.stores {
			if !ts.def.logged || (ts.def.inMemory && !active) {
				continue
			}
			tp := topicPartition{ChangelogTopic(a.cfg.ApplicationID, name), id.partition}
			s.changelogs[name] = tp
			if ts.def.inMemory {
				s.memory[name] = true
				start, _, err := bounds.bounds(tp)
				if err != nil {
					t.close()
					return nil, err
				}
				s.positions[name] = start
			}
		}
		if !s.stateful() {
			return s, nil
		}
		trusted, why, err := s.checkpointFits(bounds)
		if err != nil {
			t.close()
			return nil, err
		}
		if trusted {
			return s, nil
		}
		if fresh || wiped {
			// Nothing to wipe: restore from the start.
			for name, tp := range s.changelogs {
				start, _, _ := bounds.bounds(tp)
				s.positions[name] = start
			}
			return s, nil
		}
		a.logger.Info("local state wiped", "task", id.String(), "why", why)
		a.forgetLocal(id)
		if err := t.close(); err != nil {
			return nil, fmt.Errorf("flow: task %s: %w", id, err)
		}
		if err := store.Destroy(dir); err != nil {
			return nil, fmt.Errorf("flow: task %s: %w", id, err)
		}
	}
}

// checkpointFits reads the task's checkpoint and, if every logged store
// on disk has an offset within its changelog's bounds, takes its offsets
// as the positions; else it says why not. A task whose logged stores are
// all in memory has nothing to check.
func (s *taskState) checkpointFits(bounds changelogBounds) (bool, string, error) {
	if len(s.memory) == len(s.changelogs) {
		return true, "", nil
	}
	cp, err := s.db.Checkpoint()
	if err != nil {
		return false, "", fmt.Errorf("flow: task %s: %w", s.id, err)
	}
	if len(cp) == 0 {
		return false, "no checkpoint", nil
	}
	for name, tp := range s.changelogs {
		if s.memory[name] {
			continue
		}
		offset, ok := cp[name]
		if !ok {
			return false, fmt.Sprintf("no checkpointed offset for store %s", name), nil
		}
		start, end, err := bounds.bounds(tp)
		if err != nil {
			return false, "", err
		}
		if offset < start || offset > end {
			return false, fmt.Sprintf("store %s checkpointed at offset %d, outside its changelog's offsets %d to %d", name, offset, start, end), nil
		}
	}
	for name := range s.changelogs {
		if !s.memory[name] {
			s.positions[name] = cp[name]
		}
	}
	s.saved = true
	return true, "", nil
}

// closeState closes a task's local state; save sets its checkpoint first
// if its positions are not saved and its stores hold nothing uncommitted
// (under at-least-once, the checkpoint may lag the stores).
func (a *App) closeState(s *taskState, save bool) {
	if save && s.stateful() && (!s.saved || !s.db.Checkpointed()) && (!s.dirty || a.cfg.Guarantee == AtLeastOnce) {
		if err := s.save(); err != nil {
			a.logger.Warn("checkpoint on close", "task", s.id.String(), "err", err)
		} else {
			a.rememberLocal(s)
		}
	}
	if err := s.close(); err != nil {
		a.logger.Warn("closing a task's state", "task", s.id.String(), "err", err)
	}
}

// recordProduced notes the offset of a record produced to a changelog.
func (a *App) recordProduced(r *kgo.Record) {
	if !a.changelogs[r.Topic] {
		return
	}
	tp := topicPartition{r.Topic, r.Partition}
	a.produceMu.Lock()
	if next := r.Offset + 1; next > a.produced[tp] {
		a.produced[tp] = next
	}
	a.produceMu.Unlock()
}

// takeProduced returns and forgets the changelog positions produced
// since the last call.
func (a *App) takeProduced() map[topicPartition]int64 {
	a.produceMu.Lock()
	defer a.produceMu.Unlock()
	p := a.produced
	a.produced = make(map[topicPartition]int64)
	return p
}

// checkpointTasks runs after a commit: the active tasks' positions move
// to what they produced, and those that moved (or whose stores removed
// their checkpoint) set a new checkpoint, each DB synced in parallel.
// REQUIRES: a.tasksMu is held.
func (a *App) checkpointTasks() error {
	produced := a.takeProduced()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, s := range a.tasks {
		s.dirty = false
		if !s.stateful() {
			continue
		}
		for name, tp := range s.changelogs {
			if next, ok := produced[tp]; ok && next > s.positions[name] {
				s.positions[name] = next
				s.saved = s.saved && s.memory[name]
			}
		}
		if s.saved && s.db.Checkpointed() {
			continue
		}
		wg.Go(func() {
			err := s.save()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			a.rememberLocal(s)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// rememberLocal notes the position of a task's saved state.
// REQUIRES: s.saved.
func (a *App) rememberLocal(s *taskState) {
	a.localMu.Lock()
	a.local[s.id] = s.positionSum()
	a.localMu.Unlock()
}

// forgetLocal notes that a task's state is gone.
func (a *App) forgetLocal(id taskID) {
	a.localMu.Lock()
	delete(a.local, id)
	a.localMu.Unlock()
}

// scanLocal finds the state directories of the application's stateful
// tasks and the positions of their checkpoints, for the balancer, before
// the instance joins the group.
func (a *App) scanLocal() error {
	dir := AppStateDir(a.cfg.StateDir, a.cfg.ApplicationID)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("flow: state directory: %w", err)
	}
	for _, e := range entries {
		id, ok := parseTaskID(e.Name())
		if !ok || !e.IsDir() || len(a.top.storesOf(id.sub)) == 0 {
			continue
		}
		db, err := store.Open(a.taskDir(id), store.Options{Logger: a.logger})
		if err != nil {
			a.logger.Warn("local state unreadable", "task", id.String(), "err", err)
			continue
		}
		cp, err := db.Checkpoint()
		db.Close()
		if err != nil || len(cp) == 0 {
			continue
		}
		var sum int64
		for _, o := range cp {
			sum += o
		}
		a.local[id] = sum
	}
	return nil
}

// parseTaskID parses a task's name, as taskID.String writes it.
func parseTaskID(s string) (taskID, bool) {
	sub, partition, ok := strings.Cut(s, "_")
	if !ok {
		return taskID{}, false
	}
	n, err1 := strconv.Atoi(sub)
	p, err2 := strconv.ParseInt(partition, 10, 32)
	if err1 != nil || err2 != nil || n < 0 || p < 0 {
		return taskID{}, false
	}
	return taskID{sub: n, partition: int32(p)}, true
}
