package vfs

import (
	"fmt"
	"io"
	"os"
	"sort"

	"golang.org/x/sys/unix"
)

// Default is the operating system's file system.
var Default FS = osFS{}

type osFS struct{}

type osFile struct {
	*os.File
}

func (f osFile) Sync() error {
	// fdatasync: the data and the size, without unrelated metadata such as
	// the modification time.
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "fdatasync", Path: f.File.Name(), Err: err}
		}
		return nil
	}
}

func (f osFile) WriteVAt(bufs [][]byte, off int64) (int, error) {
	total := 0
	for len(bufs) > 0 {
		// At most IOV_MAX (1024) vectors per call.
		n, err := unix.Pwritev(int(f.Fd()), bufs[:min(len(bufs), 1024)], off)
		if err == unix.EINTR {
			continue
		}
		total += n
		if err != nil {
			return total, &os.PathError{Op: "pwritev", Path: f.File.Name(), Err: err}
		}
		if n == 0 {
			return total, &os.PathError{Op: "pwritev", Path: f.File.Name(), Err: unix.EIO}
		}
		off += int64(n)
		bufs = advance(bufs, n)
	}
	return total, nil
}

func (f osFile) ReadVAt(bufs [][]byte, off int64) (int, error) {
	total := 0
	for len(bufs) > 0 {
		// At most IOV_MAX (1024) vectors per call.
		n, err := unix.Preadv(int(f.Fd()), bufs[:min(len(bufs), 1024)], off)
		if err == unix.EINTR {
			continue
		}
		total += n
		if err != nil {
			return total, &os.PathError{Op: "preadv", Path: f.File.Name(), Err: err}
		}
		if n == 0 {
			return total, io.ErrUnexpectedEOF
		}
		off += int64(n)
		bufs = advance(bufs, n)
	}
	return total, nil
}

// advance drops the first n bytes of bufs; n may end inside a buffer.
func advance(bufs [][]byte, n int) [][]byte {
	for n > 0 && len(bufs) > 0 {
		if n >= len(bufs[0]) {
			n -= len(bufs[0])
			bufs = bufs[1:]
			continue
		}
		return append([][]byte{bufs[0][n:]}, bufs[1:]...)
	}
	return bufs
}

func (f osFile) DropCache(off, n int64) error {
	if err := unix.Fadvise(int(f.Fd()), off, n, unix.FADV_DONTNEED); err != nil {
		return &os.PathError{Op: "fadvise", Path: f.File.Name(), Err: err}
	}
	return nil
}

func (f osFile) Size() (int64, error) {
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}

func (f osFile) Name() string { return f.File.Name() }

func (osFS) Create(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) OpenReadWrite(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Open(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Remove(name string) error             { return os.Remove(name) }
func (osFS) RemoveAll(name string) error          { return os.RemoveAll(name) }
func (osFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }
func (osFS) MkdirAll(dir string) error            { return os.MkdirAll(dir, 0o755) }

func (osFS) List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	sort.Strings(names)
	return names, nil
}

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

func (osFS) FreeSpace(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, &os.PathError{Op: "statfs", Path: dir, Err: err}
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
