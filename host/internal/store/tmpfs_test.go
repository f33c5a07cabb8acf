package store

import (
	"bufio"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// preallocs counts the Preallocate calls that reach its files.
type preallocs struct {
	vfs.FS
	n *int
}

type preallocFile struct {
	vfs.File
	n *int
}

func (f preallocFile) Preallocate(offset, length int64) error {
	*f.n++
	return f.File.Preallocate(offset, length)
}

func (fs preallocs) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	return preallocFile{f, fs.n}, err
}

// TestNoPrealloc: the files noPrealloc opens for writing do not pass
// Preallocate on, and write and read as the filesystem's own.
func TestNoPrealloc(t *testing.T) {
	n := 0
	inner := preallocs{vfs.NewMem(), &n}
	if f, _ := inner.Create("direct", vfs.WriteCategoryUnspecified); f.Preallocate(0, 1<<20) != nil || n != 1 {
		t.Fatalf("the counting filesystem counted %d", n)
	}
	fs := noPrealloc{inner}
	f, err := fs.Create("wal", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Preallocate(0, 35<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("record")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if n != 1 {
		t.Errorf("Preallocate reached the file %d times", n-1)
	}
	r, err := fs.Open("wal")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if b, err := io.ReadAll(r); err != nil || string(b) != "record" {
		t.Errorf("read back %q, %v", b, err)
	}
}

// TestOnTmpfs: a directory on tmpfs is seen as such, a path not made
// yet by the nearest directory that exists, and procfs is not tmpfs.
func TestOnTmpfs(t *testing.T) {
	if onTmpfs("/proc/self") {
		t.Errorf("/proc is seen as tmpfs")
	}
	fstype := mountType(t, "/dev/shm")
	if fstype == "" {
		return // no /dev/shm here: nothing more to compare with
	}
	if got, want := onTmpfs("/dev/shm/dohost-not-made/db"), fstype == "tmpfs"; got != want {
		t.Errorf("/dev/shm (%s): onTmpfs %v", fstype, got)
	}
}

// mountType is the filesystem type mounted at dir, from /proc/self/mounts;
// "" when nothing is mounted there.
func mountType(t *testing.T, dir string) string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	typ := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 2 && fields[1] == dir {
			typ = fields[2] // the last mount there is the one seen
		}
	}
	return typ
}
