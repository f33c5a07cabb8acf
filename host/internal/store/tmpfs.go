package store

import (
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2/vfs"
	"golang.org/x/sys/unix"
)

// The engine preallocates each new log file to a tenth more than a
// memtable holds, so that a sync on a disk's filesystem need not record
// the file's growth. On tmpfs that preallocation is no bookkeeping but
// memory, zeroed at once: a 35 MiB log took 28 ms to allocate, in the
// middle of a write that every commit of every tenant waited for (make
// soak, which keeps its data on tmpfs: the disk attack's first round).
// On tmpfs a sync costs nothing to begin with, so the store opens its
// files there without preallocation.

// noPrealloc is a filesystem whose files for writing ignore Preallocate.
type noPrealloc struct{ vfs.FS }

// unallocated is a file whose Preallocate does nothing.
type unallocated struct{ vfs.File }

func (unallocated) Preallocate(offset, length int64) error { return nil }

func (fs noPrealloc) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil {
		return nil, err
	}
	return unallocated{f}, nil
}

func (fs noPrealloc) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	if err != nil {
		return nil, err
	}
	return unallocated{f}, nil
}

func (fs noPrealloc) OpenReadWrite(name string, category vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, category, opts...)
	if err != nil {
		return nil, err
	}
	return unallocated{f}, nil
}

// onTmpfs reports whether dir, or its nearest ancestor that exists, is
// on tmpfs.
func onTmpfs(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		var st unix.Statfs_t
		err := unix.Statfs(dir, &st)
		if err == nil {
			return st.Type == unix.TMPFS_MAGIC
		}
		if !os.IsNotExist(err) || dir == filepath.Dir(dir) {
			return false
		}
		dir = filepath.Dir(dir)
	}
}
