// Package vfs is the small file-system interface that Weir's storage goes
// through, so that tests can inject short writes, failed fsyncs and full
// disks, and check the order in which files were synced.
//
// Two implementations exist: Default, the operating system's file system,
// and Faulty, a wrapper around another FS that fails chosen operations and
// records every sync.
package vfs

import (
	"io"
)

// File is an open file. Writes are positional (pwrite), so that one file can
// be appended to by one writer while others read it.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// WriteVAt writes the concatenation of bufs at off (pwritev): one
	// system call, no copy into one buffer. It writes all the bytes or
	// returns an error.
	WriteVAt(bufs [][]byte, off int64) (int, error)
	// ReadVAt fills bufs, in order, from the bytes at off (preadv). It
	// reads all the bytes or returns an error.
	ReadVAt(bufs [][]byte, off int64) (int, error)
	// Sync makes the file's data (and the metadata needed to read it back,
	// such as its size) durable: fdatasync on Linux.
	Sync() error
	// DropCache tells the operating system that the n bytes at off, which
	// must be synced, will not be read soon: their cached pages can go
	// (fadvise DONTNEED). It is advice; an error may be ignored.
	DropCache(off, n int64) error
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Size returns the file's current size.
	Size() (int64, error)
	// Name returns the path the file was opened with.
	Name() string
}

// FS is a file system. Paths are slash- or OS-separated as the OS expects.
type FS interface {
	// Create creates a new file for reading and writing; it fails if the
	// file exists.
	Create(name string) (File, error)
	// OpenReadWrite opens an existing file for reading and writing.
	OpenReadWrite(name string) (File, error)
	// Open opens an existing file for reading.
	Open(name string) (File, error)
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// RemoveAll removes a directory and everything below it.
	RemoveAll(name string) error
	// Rename renames a file, replacing the target if it exists.
	Rename(oldname, newname string) error
	// MkdirAll creates a directory and its parents.
	MkdirAll(dir string) error
	// List returns the names (not paths) of the entries of a directory,
	// sorted.
	List(dir string) ([]string, error)
	// SyncDir makes the directory's entries (creations, removals, renames)
	// durable.
	SyncDir(dir string) error
	// FreeSpace returns the bytes an unprivileged writer may still use on
	// the file system holding dir.
	FreeSpace(dir string) (int64, error)
}
