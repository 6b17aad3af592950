package flow

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// DefaultStateCleanupDelay is Config.StateCleanupDelay when zero (Kafka
// Streams' state.cleanup.delay.ms).
const DefaultStateCleanupDelay = 10 * time.Minute

// cleanUp deletes the state directories of tasks that have been neither
// active nor standbys on this instance for Config.StateCleanupDelay, as
// Kafka Streams' state cleaner does, so that the state of tasks that
// moved away for good does not stay on disk. It runs after a commit, at
// most every tenth of the delay (a minute at most). A task's directory is
// only touched by Run's goroutine and, while the task is a standby, by
// the standbys' reader: neither is the case here.
func (a *App) cleanUp() {
	delay := a.cfg.StateCleanupDelay
	now := time.Now()
	if delay < 0 || now.Sub(a.cleanedAt) < min(delay/10, time.Minute) {
		return
	}
	a.cleanedAt = now
	entries, err := os.ReadDir(AppStateDir(a.cfg.StateDir, a.cfg.ApplicationID))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			a.logger.Warn("cleaning the state directory", "err", err)
		}
		return
	}
	here := a.assignedHere()
	seen := make(map[taskID]bool)
	for _, e := range entries {
		id, ok := parseTaskID(e.Name())
		if !ok || !e.IsDir() || here[id] {
			continue
		}
		seen[id] = true
		since, ok := a.unassigned[id]
		if !ok {
			a.unassigned[id] = now
			continue
		}
		if now.Sub(since) < delay {
			continue
		}
		a.forgetLocal(id)
		if err := os.RemoveAll(a.taskDir(id)); err != nil {
			a.logger.Warn("deleting the state of an unassigned task", "task", id.String(), "err", err)
			continue
		}
		delete(a.unassigned, id)
		a.logger.Info("deleted the state of a task unassigned here", "task", id.String(), "since", since)
	}
	for id := range a.unassigned {
		if !seen[id] {
			delete(a.unassigned, id)
		}
	}
}

// assignedHere returns the tasks active or standby on this instance (in
// its last assignment or the next), or open in it.
func (a *App) assignedHere() map[taskID]bool {
	here := make(map[taskID]bool)
	a.assignMu.Lock()
	for id := range a.active {
		here[id] = true
	}
	if p := a.pending; p != nil { // the next step's assignment
		for id := range p.active {
			here[id] = true
		}
		for _, id := range p.standby {
			here[id] = true
		}
	}
	a.assignMu.Unlock()
	a.tasksMu.Lock()
	for id := range a.tasks {
		here[id] = true
	}
	a.tasksMu.Unlock()
	for id := range a.standbyIDs {
		here[id] = true
	}
	return here
}
