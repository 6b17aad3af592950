package commitlog

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-io/weir/internal/vfs"
)

// recordingObserver keeps what it is told.
type recordingObserver struct {
	mu           sync.Mutex
	groups       int
	entries      int
	groupBytes   int
	syncs        int
	syncedBytes  uint64
	syncErrors   []error
	negativeTime bool
}

func (o *recordingObserver) WroteGroup(entries, bytes int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.groups++
	o.entries += entries
	o.groupBytes += bytes
}

func (o *recordingObserver) Synced(d time.Duration, bytes uint64, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d < 0 {
		o.negativeTime = true
	}
	if err != nil {
		o.syncErrors = append(o.syncErrors, err)
		return
	}
	o.syncs++
	o.syncedBytes += bytes
}

func TestObserverSeesGroupsAndSyncs(t *testing.T) {
	obs := &recordingObserver{}
	l, _, err := Open(Options{Dir: t.TempDir(), Durability: Durability{Mode: Durable}, Logger: quiet, Observer: obs}, 0, func(Entry) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const appenders, each = 8, 50
	var wg sync.WaitGroup
	for a := range appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				pos, size := mustAppend(t, l, a*each+i)
				if err := l.WaitSynced(ctxTimeout(t), pos+uint64(size)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// The flusher wakes the waiters before it tells the observer of the
	// sync: wait until the last sync is reported.
	for deadline := time.Now().Add(10 * time.Second); ; {
		obs.mu.Lock()
		caught := obs.syncedBytes == l.Synced()-SegmentHeaderSize || obs.syncedBytes == l.Synced()
		obs.mu.Unlock()
		if caught || time.Now().After(deadline) {
			break
		}
		runtime.Gosched()
	}

	obs.mu.Lock()
	defer obs.mu.Unlock()
	appended := int(l.Written() - SegmentHeaderSize)
	if obs.entries != appenders*each || obs.groupBytes != appended {
		t.Errorf("groups hold %d entries of %d bytes, want %d of %d", obs.entries, obs.groupBytes, appenders*each, appended)
	}
	if obs.groups < 1 || obs.groups > obs.entries {
		t.Errorf("%d groups for %d entries", obs.groups, obs.entries)
	}
	// Every byte appended is synced once (the header is synced with the
	// first entry).
	if obs.syncs < 1 || obs.syncedBytes != l.Synced()-SegmentHeaderSize && obs.syncedBytes != l.Synced() {
		t.Errorf("%d syncs covering %d bytes, synced position %d", obs.syncs, obs.syncedBytes, l.Synced())
	}
	if obs.negativeTime || len(obs.syncErrors) != 0 {
		t.Errorf("negative duration %v, errors %v", obs.negativeTime, obs.syncErrors)
	}
}

func TestObserverSeesFailedSync(t *testing.T) {
	fs := vfs.NewFaulty(vfs.Default)
	fs.SetHook(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync && strings.HasSuffix(op.Name, segmentSuffix) {
			return vfs.ErrInjected
		}
		return nil
	})
	obs := &recordingObserver{}
	l, _, err := Open(Options{FS: fs, Dir: t.TempDir(), Durability: Durability{Mode: Durable}, Logger: quiet, Observer: obs}, 0, func(Entry) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	pos, size := mustAppend(t, l, 0)
	if err := l.WaitSynced(ctxTimeout(t), pos+uint64(size)); !errors.Is(err, ErrFailed) {
		t.Fatalf("WaitSynced after a failed fsync: %v", err)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.syncErrors) != 1 || !errors.Is(obs.syncErrors[0], vfs.ErrInjected) {
		t.Fatalf("sync errors observed: %v", obs.syncErrors)
	}
}
