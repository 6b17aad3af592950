package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"
)

// OpKind names an operation that Faulty can observe and fail.
type OpKind int

// The operations Faulty reports to its hook.
const (
	OpWrite OpKind = iota
	OpSync
	OpSyncDir
	OpCreate
	OpRemove
	OpRename
	OpTruncate
)

func (k OpKind) String() string {
	return [...]string{"write", "sync", "syncdir", "create", "remove", "rename", "truncate"}[k]
}

// Op is one operation seen by Faulty.
type Op struct {
	Kind   OpKind
	Name   string
	Offset int64
	Length int
}

// ErrInjected is the error Faulty returns for an operation its hook fails,
// unless the hook returns an error of its own.
var ErrInjected = errors.New("vfs: injected fault")

// Faulty wraps a file system, lets a hook fail any operation, and can
// emulate a disk of limited capacity (writes past it are short and fail with
// ENOSPC, like a full disk). It records the order of syncs.
type Faulty struct {
	inner FS

	mu struct {
		sync.Mutex
		hook     func(Op) error
		capacity int64 // bytes; 0 means unlimited
		used     int64
		sizes    map[string]int64
		syncs    []string
	}
}

// NewFaulty wraps inner.
func NewFaulty(inner FS) *Faulty {
	f := &Faulty{inner: inner}
	f.mu.sizes = make(map[string]int64)
	return f
}

// SetHook installs a function called before every operation; an error it
// returns fails the operation (a write fails without writing anything).
func (f *Faulty) SetHook(hook func(Op) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.hook = hook
}

// SetCapacity limits the bytes all files written through f may hold; 0
// removes the limit. Files that existed before they were opened through f
// count from the size they had then.
func (f *Faulty) SetCapacity(bytes int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.capacity = bytes
}

// Used returns the bytes currently held by files written through f.
func (f *Faulty) Used() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.used
}

// Syncs returns the names synced so far, in order (directories included).
func (f *Faulty) Syncs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.mu.syncs...)
}

func (f *Faulty) check(op Op) error {
	f.mu.Lock()
	hook := f.mu.hook
	f.mu.Unlock()
	if hook == nil {
		return nil
	}
	if err := hook(op); err != nil {
		if errors.Is(err, ErrInjected) {
			return &os.PathError{Op: op.Kind.String(), Path: op.Name, Err: err}
		}
		return err
	}
	return nil
}

func (f *Faulty) track(name string, file File) {
	size, err := file.Size()
	if err != nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.mu.sizes[name]; !ok {
		f.mu.sizes[name] = size
		f.mu.used += size
	}
}

// Create implements FS.
func (f *Faulty) Create(name string) (File, error) {
	if err := f.check(Op{Kind: OpCreate, Name: name}); err != nil {
		return nil, err
	}
	file, err := f.inner.Create(name)
	if err != nil {
		return nil, err
	}
	f.track(name, file)
	return &faultyFile{File: file, fs: f, name: name}, nil
}

// OpenReadWrite implements FS.
func (f *Faulty) OpenReadWrite(name string) (File, error) {
	file, err := f.inner.OpenReadWrite(name)
	if err != nil {
		return nil, err
	}
	f.track(name, file)
	return &faultyFile{File: file, fs: f, name: name}, nil
}

// Open implements FS.
func (f *Faulty) Open(name string) (File, error) {
	file, err := f.inner.Open(name)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: file, fs: f, name: name}, nil
}

// Remove implements FS.
func (f *Faulty) Remove(name string) error {
	if err := f.check(Op{Kind: OpRemove, Name: name}); err != nil {
		return err
	}
	if err := f.inner.Remove(name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.used -= f.mu.sizes[name]
	delete(f.mu.sizes, name)
	return nil
}

// RemoveAll implements FS.
func (f *Faulty) RemoveAll(name string) error {
	if err := f.check(Op{Kind: OpRemove, Name: name}); err != nil {
		return err
	}
	if err := f.inner.RemoveAll(name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	prefix := name + string(os.PathSeparator)
	for n, size := range f.mu.sizes {
		if n == name || len(n) > len(prefix) && n[:len(prefix)] == prefix {
			f.mu.used -= size
			delete(f.mu.sizes, n)
		}
	}
	return nil
}

// Rename implements FS.
func (f *Faulty) Rename(oldname, newname string) error {
	if err := f.check(Op{Kind: OpRename, Name: oldname}); err != nil {
		return err
	}
	if err := f.inner.Rename(oldname, newname); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if size, ok := f.mu.sizes[oldname]; ok {
		f.mu.used -= f.mu.sizes[newname]
		f.mu.sizes[newname] = size
		delete(f.mu.sizes, oldname)
	}
	return nil
}

// MkdirAll implements FS.
func (f *Faulty) MkdirAll(dir string) error { return f.inner.MkdirAll(dir) }

// List implements FS.
func (f *Faulty) List(dir string) ([]string, error) { return f.inner.List(dir) }

// FreeSpace implements FS: the capacity left when one is set, else what the
// wrapped file system says.
func (f *Faulty) FreeSpace(dir string) (int64, error) {
	f.mu.Lock()
	capacity, used := f.mu.capacity, f.mu.used
	f.mu.Unlock()
	if capacity > 0 {
		return max(capacity-used, 0), nil
	}
	return f.inner.FreeSpace(dir)
}

// SyncDir implements FS.
func (f *Faulty) SyncDir(dir string) error {
	if err := f.check(Op{Kind: OpSyncDir, Name: dir}); err != nil {
		return err
	}
	if err := f.inner.SyncDir(dir); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.syncs = append(f.mu.syncs, dir)
	return nil
}

type faultyFile struct {
	File
	fs   *Faulty
	name string
}

// WriteAt fails as the hook says, and is cut short with ENOSPC where the
// write would take the file system past its capacity.
func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(Op{Kind: OpWrite, Name: f.name, Offset: off, Length: len(p)}); err != nil {
		return 0, err
	}
	allowed := f.fs.reserve(f.name, off, len(p))
	n, err := f.File.WriteAt(p[:allowed], off)
	if err != nil {
		return n, err
	}
	if allowed < len(p) {
		return n, &fs.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
	}
	return n, nil
}

// reserve returns how many of n bytes written at off fit, and accounts for
// the growth of the file.
func (f *Faulty) reserve(name string, off int64, n int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	size := f.mu.sizes[name]
	end := off + int64(n)
	if end <= size {
		return n
	}
	growth := end - size
	if f.mu.capacity > 0 && f.mu.used+growth > f.mu.capacity {
		growth = max(f.mu.capacity-f.mu.used, 0)
		n = int(max(size+growth-off, 0))
		if n == 0 {
			return 0
		}
		end = off + int64(n)
		growth = end - size
	}
	f.mu.used += growth
	f.mu.sizes[name] = end
	return n
}

// WriteVAt goes through WriteAt, so that faults and capacity apply alike.
func (f *faultyFile) WriteVAt(bufs [][]byte, off int64) (int, error) {
	var joined []byte
	for _, b := range bufs {
		joined = append(joined, b...)
	}
	return f.WriteAt(joined, off)
}

func (f *faultyFile) Sync() error {
	if err := f.fs.check(Op{Kind: OpSync, Name: f.name}); err != nil {
		return err
	}
	if err := f.File.Sync(); err != nil {
		return err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.fs.mu.syncs = append(f.fs.mu.syncs, f.name)
	return nil
}

func (f *faultyFile) Truncate(size int64) error {
	if err := f.fs.check(Op{Kind: OpTruncate, Name: f.name, Offset: size}); err != nil {
		return err
	}
	if err := f.File.Truncate(size); err != nil {
		return err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if old, ok := f.fs.mu.sizes[f.name]; ok {
		f.fs.mu.used += size - old
		f.fs.mu.sizes[f.name] = size
	}
	return nil
}

func (f *faultyFile) String() string { return fmt.Sprintf("faulty(%s)", f.name) }
