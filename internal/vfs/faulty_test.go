package vfs

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
)

func mustCreate(t *testing.T, fs FS, name string) File {
	t.Helper()
	f, err := fs.Create(name)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func fileSize(t *testing.T, name string) int64 {
	t.Helper()
	info, err := os.Stat(name)
	if err != nil {
		t.Fatalf("stat %s: %v", name, err)
	}
	return info.Size()
}

func TestFaultyCapacity(t *testing.T) {
	dir := t.TempDir()
	fs := NewFaulty(Default)
	fs.SetCapacity(100)
	a := mustCreate(t, fs, filepath.Join(dir, "a"))

	steps := []struct {
		name    string
		off     int64
		n       int
		wantN   int
		wantErr error // nil or ENOSPC
		used    int64
	}{
		{"fits", 0, 60, 60, nil, 60},
		{"overwrite inside the file", 10, 40, 40, nil, 60},
		{"short write at capacity", 60, 60, 40, syscall.ENOSPC, 100},
		{"full: nothing written", 100, 10, 0, syscall.ENOSPC, 100},
		{"overwrite while full", 0, 100, 100, nil, 100},
	}
	for _, s := range steps {
		n, err := a.WriteAt(make([]byte, s.n), s.off)
		if n != s.wantN {
			t.Errorf("%s: wrote %d bytes, want %d", s.name, n, s.wantN)
		}
		if s.wantErr == nil && err != nil || s.wantErr != nil && !errors.Is(err, s.wantErr) {
			t.Errorf("%s: err %v, want %v", s.name, err, s.wantErr)
		}
		if got := fs.Used(); got != s.used {
			t.Errorf("%s: used %d, want %d", s.name, got, s.used)
		}
	}
	if got := fileSize(t, a.Name()); got != 100 {
		t.Errorf("file size %d, want 100", got)
	}

	// Truncation gives space back; so does removal; raising the capacity
	// lets writes through again.
	if err := a.Truncate(30); err != nil {
		t.Fatal(err)
	}
	if got := fs.Used(); got != 30 {
		t.Errorf("after truncate: used %d, want 30", got)
	}
	b := mustCreate(t, fs, filepath.Join(dir, "b"))
	if n, err := b.WriteAt(make([]byte, 80), 0); n != 70 || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("second file: wrote %d, %v; want 70, ENOSPC", n, err)
	}
	if err := fs.Remove(b.Name()); err != nil {
		t.Fatal(err)
	}
	if got := fs.Used(); got != 30 {
		t.Errorf("after remove: used %d, want 30", got)
	}
	fs.SetCapacity(0)
	if n, err := a.WriteAt(make([]byte, 1000), 30); n != 1000 || err != nil {
		t.Errorf("unlimited: wrote %d, %v", n, err)
	}
	if got := fs.Used(); got != 1030 {
		t.Errorf("unlimited: used %d, want 1030", got)
	}
}

// A file that existed before it was opened through Faulty counts from its
// size then.
func TestFaultyCountsExistingFiles(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "old")
	if err := os.WriteFile(name, make([]byte, 50), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := NewFaulty(Default)
	fs.SetCapacity(60)
	f, err := fs.OpenReadWrite(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := fs.Used(); got != 50 {
		t.Fatalf("used %d, want 50", got)
	}
	if n, err := f.WriteAt(make([]byte, 20), 50); n != 10 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("wrote %d, %v; want 10, ENOSPC", n, err)
	}
	// Opening it again does not count it twice.
	g, err := fs.OpenReadWrite(name)
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	if got := fs.Used(); got != 60 {
		t.Fatalf("used %d after reopening, want 60", got)
	}
}

func TestFaultyRenameRemoveAccounting(t *testing.T) {
	dir := t.TempDir()
	fs := NewFaulty(Default)
	path := func(n string) string { return filepath.Join(dir, n) }
	write := func(name string, n int) {
		f := mustCreate(t, fs, path(name))
		if _, err := f.WriteAt(make([]byte, n), 0); err != nil {
			t.Fatal(err)
		}
	}
	write("a", 10)
	write("b", 20)
	if got := fs.Used(); got != 30 {
		t.Fatalf("used %d, want 30", got)
	}
	// Renaming over b replaces it: b's 20 bytes are gone.
	if err := fs.Rename(path("a"), path("b")); err != nil {
		t.Fatal(err)
	}
	if got := fs.Used(); got != 10 {
		t.Fatalf("after rename over b: used %d, want 10", got)
	}
	if err := fs.Rename(path("b"), path("c")); err != nil {
		t.Fatal(err)
	}
	if got := fs.Used(); got != 10 {
		t.Fatalf("after rename to c: used %d, want 10", got)
	}
	if err := fs.Remove(path("c")); err != nil {
		t.Fatal(err)
	}
	if got := fs.Used(); got != 0 {
		t.Fatalf("after remove: used %d, want 0", got)
	}
	// Removing a missing file fails and changes nothing.
	if err := fs.Remove(path("c")); err == nil {
		t.Fatal("removing a missing file succeeded")
	}
	if err := fs.MkdirAll(path("sub")); err != nil {
		t.Fatal(err)
	}
	write("sub/x", 5)
	write("sub/y", 7)
	write("subway", 3) // a sibling whose name shares the prefix
	if err := fs.RemoveAll(path("sub")); err != nil {
		t.Fatal(err)
	}
	if got := fs.Used(); got != 3 {
		t.Fatalf("after RemoveAll: used %d, want 3", got)
	}
}

func TestFaultyHook(t *testing.T) {
	dir := t.TempDir()
	fs := NewFaulty(Default)
	name := filepath.Join(dir, "f")
	var seen []Op
	custom := errors.New("custom")
	fs.SetHook(func(op Op) error {
		seen = append(seen, op)
		switch {
		case op.Kind == OpWrite && op.Offset == 100:
			return ErrInjected
		case op.Kind == OpSync:
			return custom
		}
		return nil
	})
	f := mustCreate(t, fs, name)
	if _, err := f.WriteAt([]byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	n, err := f.WriteAt([]byte("world"), 100)
	var pe *os.PathError
	if n != 0 || !errors.Is(err, ErrInjected) || !errors.As(err, &pe) || pe.Path != name {
		t.Fatalf("injected write: %d, %v", n, err)
	}
	if got := fileSize(t, name); got != 5 {
		t.Fatalf("a failed write wrote: size %d, want 5", got)
	}
	if err := f.Sync(); err != custom {
		t.Fatalf("sync: %v, want the hook's own error", err)
	}
	if len(fs.Syncs()) != 0 {
		t.Fatalf("a failed sync was recorded: %v", fs.Syncs())
	}
	if err := f.Truncate(2); err != nil {
		t.Fatal(err)
	}
	if err := fs.Rename(name, name+".2"); err != nil {
		t.Fatal(err)
	}
	if err := fs.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := fs.Remove(name + ".2"); err != nil {
		t.Fatal(err)
	}
	want := []Op{
		{Kind: OpCreate, Name: name},
		{Kind: OpWrite, Name: name, Offset: 0, Length: 5},
		{Kind: OpWrite, Name: name, Offset: 100, Length: 5},
		{Kind: OpSync, Name: name},
		{Kind: OpTruncate, Name: name, Offset: 2},
		{Kind: OpRename, Name: name},
		{Kind: OpSyncDir, Name: dir},
		{Kind: OpRemove, Name: name + ".2"},
	}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("hook saw\n%v\nwant\n%v", seen, want)
	}
	// A failing create creates nothing.
	fs.SetHook(func(op Op) error {
		if op.Kind == OpCreate {
			return ErrInjected
		}
		return nil
	})
	if _, err := fs.Create(filepath.Join(dir, "g")); !errors.Is(err, ErrInjected) {
		t.Fatalf("create: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "g")); !os.IsNotExist(err) {
		t.Fatalf("a failed create left a file: %v", err)
	}
	fs.SetHook(nil)
	if _, err := fs.Create(filepath.Join(dir, "g")); err != nil {
		t.Fatalf("create without hook: %v", err)
	}
}

func TestFaultySyncOrder(t *testing.T) {
	dir := t.TempDir()
	fs := NewFaulty(Default)
	a := mustCreate(t, fs, filepath.Join(dir, "a"))
	b := mustCreate(t, fs, filepath.Join(dir, "b"))
	for _, step := range []func() error{
		a.Sync, func() error { return fs.SyncDir(dir) }, b.Sync, a.Sync,
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{a.Name(), dir, b.Name(), a.Name()}
	if got := fs.Syncs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("syncs %v, want %v", got, want)
	}
	// Syncs returns a copy.
	got := fs.Syncs()
	got[0] = "changed"
	if fs.Syncs()[0] != a.Name() {
		t.Fatal("Syncs returned its own slice")
	}
}

func TestOpKindString(t *testing.T) {
	for k, want := range map[OpKind]string{OpWrite: "write", OpSync: "sync", OpSyncDir: "syncdir",
		OpCreate: "create", OpRemove: "remove", OpRename: "rename", OpTruncate: "truncate"} {
		if k.String() != want {
			t.Errorf("%d: %q, want %q", k, k.String(), want)
		}
	}
}

func TestDefaultFS(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	f, err := Default.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Default.Create(name); err == nil {
		t.Fatal("Create of an existing file succeeded")
	}
	if _, err := f.WriteAt([]byte("abcdef"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if size, err := f.Size(); err != nil || size != 6 {
		t.Fatalf("size %d, %v", size, err)
	}
	f.Close()
	r, err := Default.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if _, err := r.ReadAt(buf, 2); err != nil || string(buf) != "cde" {
		t.Fatalf("read %q, %v", buf, err)
	}
	r.Close()
	if err := Default.MkdirAll(filepath.Join(dir, "z", "y")); err != nil {
		t.Fatal(err)
	}
	names, err := Default.List(dir)
	if err != nil || !reflect.DeepEqual(names, []string{"f", "z"}) {
		t.Fatalf("list %v, %v", names, err)
	}
	if err := Default.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
}
