package flow

// Standby replicas.
//
// With Config.StandbyReplicas n, the group's balancer (balancer.go) gives
// each stateful task n standbys on other instances than the one running
// it. A standby opens the task's state in this instance's state directory
// (checking its checkpoint as an active task does), and reads the task's
// changelog partitions as they grow, read_committed, applying their
// records to the stores and setting the checkpoint at most once per
// commit interval and when it closes. When the task is later assigned to
// this instance, its state is already there: it restores only what the
// standby had not read yet.
//
// One goroutine (run) reads for all the standbys of the instance, with a
// changelogReader of its own. The processing goroutine changes the set of
// standbys after each rebalance (update): it stops run, closes the
// standbys no longer assigned and those becoming active here (so that a
// task's state is never open as a standby and as an active task at once:
// the standby is closed, with its checkpoint, before the active task
// opens the directory), and starts run again, which opens the new ones.
// Standbys are never active elsewhere at the same time as on this
// instance in a way that matters: the balancer never gives a member the
// standby of a task it runs, and each instance has its own directory.
//
// A standby that fails to read (a broker away, a changelog deleted) logs
// it and tries again; it never stops the application.

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-io/weir/flow/store"
)

// standbys are the standby tasks of an instance.
type standbys struct {
	a      *App
	reader *changelogReader
	// tasks are the standbys, by task; run owns them while it runs,
	// update otherwise.
	tasks map[taskID]*taskState
	// cancel stops run, which closes done when it returns.
	cancel context.CancelFunc
	done   chan struct{}
}

// standbyOutput is the output of a standby's stores: they only restore,
// and never write to it.
type standbyOutput struct{}

func (standbyOutput) send(string, int32, []byte, []byte, int64, []kgo.RecordHeader) error {
	return errors.New("flow: a standby task does not process")
}

func (standbyOutput) sendAppended(string, int32, []byte, appendFunc, any, int64, []kgo.RecordHeader) error {
	return errors.New("flow: a standby task does not process")
}

func (standbyOutput) partitions(string) (int, error) {
	return 0, errors.New("flow: a standby task does not process")
}

func (standbyOutput) global(string) (*store.KeyValue, error) {
	return nil, errors.New("flow: a standby task does not process")
}

// standbyRetry is how long a standby waits after an error before it
// reads again.
const standbyRetry = time.Second

// standbyMaxWait is how long a standby's fetch waits for records.
const standbyMaxWait = 500 * time.Millisecond

// update makes want the set of standbys: it stops the reading, closes
// the standbys not in want (setting their checkpoints), and starts run
// again, which opens those new in want before it reads.
func (s *standbys) update(ctx context.Context, want map[taskID]bool) {
	s.stop()
	for id, st := range s.tasks {
		if !want[id] {
			s.a.closeState(st, true)
			delete(s.tasks, id)
		}
	}
	var open []taskID
	for id := range want {
		if _, ok := s.tasks[id]; !ok {
			open = append(open, id)
		}
	}
	if len(s.tasks) > 0 || len(open) > 0 {
		runCtx, cancel := context.WithCancel(ctx)
		s.cancel, s.done = cancel, make(chan struct{})
		go s.run(runCtx, s.done, open)
	}
}

// open opens new standbys; those that fail are left out (logged).
func (s *standbys) open(ctx context.Context, ids []taskID) {
	if len(ids) == 0 {
		return
	}
	bounds, err := s.a.listBounds(ctx, ids)
	if err != nil {
		s.a.logger.Warn("standby tasks not opened", "tasks", ids, "err", err)
		return
	}
	for _, id := range slices.SortedFunc(slices.Values(ids), compareTasks) {
		st, err := s.a.openState(id, nil, bounds)
		if err != nil {
			s.a.logger.Warn("standby task not opened", "task", id.String(), "err", err)
			continue
		}
		s.tasks[id] = st
	}
	s.a.logger.Info("standby tasks", "tasks", slices.SortedFunc(maps.Keys(s.tasks), compareTasks))
}

// stop stops run and waits for it to return.
func (s *standbys) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.cancel, s.done = nil, nil
}

// close stops reading and closes every standby.
func (s *standbys) close() {
	s.stop()
	for id, st := range s.tasks {
		s.a.closeState(st, true)
		delete(s.tasks, id)
	}
	s.reader.close()
}

// run opens the standbys of ids, then reads the standbys' changelogs
// until ctx ends. Opening them here rather than in update keeps it off
// the processing goroutine, which waits for update after a rebalance.
func (s *standbys) run(ctx context.Context, done chan struct{}, ids []taskID) {
	defer close(done)
	s.open(ctx, ids)
	byPartition := map[topicPartition]*taskState{}
	for _, st := range s.tasks {
		for _, tp := range st.changelogs {
			byPartition[tp] = st
		}
	}
	lastSave := time.Now()
	for ctx.Err() == nil {
		err := s.read(ctx, byPartition)
		if time.Since(lastSave) >= s.a.cfg.CommitInterval || ctx.Err() != nil {
			s.save()
			lastSave = time.Now()
		}
		if err == nil || ctx.Err() != nil {
			continue
		}
		var oor *outOfRangeError
		if errors.As(err, &oor) {
			// The changelog lost the records after the standby's
			// position: start it again from the log start.
			st := byPartition[oor.tp]
			if err = s.reset(ctx, st); err != nil {
				for _, tp := range st.changelogs {
					delete(byPartition, tp)
				}
			}
		}
		if err != nil {
			s.a.logger.Warn("standby tasks cannot read their changelogs", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(standbyRetry):
			}
		}
	}
}

// read fetches once from every standby's position and applies what came.
func (s *standbys) read(ctx context.Context, byPartition map[topicPartition]*taskState) error {
	from := make(map[topicPartition]int64, len(byPartition))
	for tp, st := range byPartition {
		from[tp] = st.positions[storeOf(st, tp)]
	}
	got, err := s.reader.fetch(ctx, from, standbyMaxWait)
	for tp, f := range got {
		st := byPartition[tp]
		name := storeOf(st, tp)
		ts := st.stores[name]
		for _, r := range f.records {
			if err := ts.restore(r.Key, r.Value, r.Timestamp.UnixMilli()); err != nil {
				return err
			}
		}
		if f.next != st.positions[name] {
			st.positions[name] = f.next
			st.saved = false
		}
	}
	return err
}

// save sets the checkpoints of the standbys that moved.
func (s *standbys) save() {
	for _, st := range s.tasks {
		if st.saved {
			continue
		}
		if err := st.save(); err != nil {
			s.a.logger.Warn("standby checkpoint", "task", st.id.String(), "err", err)
			continue
		}
		s.a.rememberLocal(st)
	}
}

// reset wipes a standby's state and starts it again from the changelogs'
// start.
func (s *standbys) reset(ctx context.Context, st *taskState) error {
	bounds, err := s.a.listBounds(ctx, []taskID{st.id})
	if err != nil {
		return err
	}
	// Without a checkpoint that fits, openState wipes the state.
	if err := st.db.ClearCheckpoint(); err != nil {
		return err
	}
	st.saved = true // nothing to save on close
	s.a.closeState(st, false)
	fresh, err := s.a.openState(st.id, nil, bounds)
	if err != nil {
		delete(s.tasks, st.id)
		return err
	}
	*st = *fresh
	return nil
}

// storeOf returns the store of a task whose changelog partition is tp.
func storeOf(st *taskState, tp topicPartition) string {
	for name, p := range st.changelogs {
		if p == tp {
			return name
		}
	}
	return ""
}
