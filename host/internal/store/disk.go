package store

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// ErrDiskFull is the cause of a commit refused because the disk holding the
// database has less free space than the store keeps in reserve. Nothing
// of the refused commit is written; reads go on, and commits are accepted
// again, by themselves, once there is room.
var ErrDiskFull = errors.New("store: the disk is full")

// Disk space: the store refuses commits while the free space of the
// disk is under its reserve, rather than let the engine run into a full
// disk (where a write blocks until space returns). It looks every
// diskPoll, and logs the change of state, not every refusal.
const (
	diskPoll = 500 * time.Millisecond
	// DefaultReserve is the reserve's most: at least 1 GiB stays free, or
	// 5% of a smaller disk.
	DefaultReserve = 1 << 30
)

// FreeSpaceFunc reports the bytes free and in all of the disk that holds
// path.
type FreeSpaceFunc func(path string) (free, total uint64, err error)

// DiskSpace reports the bytes free and in all of the disk that holds
// path, as a store reads them unless Options.FreeSpace says otherwise.
func DiskSpace(path string) (free, total uint64, err error) {
	return diskSpaceOf(vfs.Default)(path)
}

func diskSpaceOf(fs vfs.FS) FreeSpaceFunc {
	return func(path string) (uint64, uint64, error) {
		u, err := fs.GetDiskUsage(path)
		return u.AvailBytes, u.TotalBytes, err
	}
}

// diskGuard watches the free space of the database's disk.
type diskGuard struct {
	dir     string
	reserve uint64 // 0: from the disk's size
	free    FreeSpaceFunc
	log     *slog.Logger

	full atomic.Bool
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	refused  int       // guarded by mu: commits refused since the last report
	reported time.Time // guarded by mu
}

func newDiskGuard(dir string, reserve uint64, free FreeSpaceFunc, fs vfs.FS, log *slog.Logger) *diskGuard {
	if free == nil {
		free = diskSpaceOf(fs)
	}
	g := &diskGuard{dir: dir, reserve: reserve, free: free, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	g.check()
	go g.watch()
	return g
}

// check looks at the free space once and records whether it is under the
// reserve, logging a change.
func (g *diskGuard) check() {
	free, total, err := g.free(g.dir)
	if err != nil {
		return // no reading: keep the last state
	}
	reserve := g.reserve
	if reserve == 0 {
		reserve = min(DefaultReserve, total/20)
	}
	full := free < reserve
	if was := g.full.Swap(full); was != full {
		if full {
			g.log.Error("disk almost full: writes are refused until there is room", "dir", g.dir, "free_bytes", free, "reserve_bytes", reserve)
		} else {
			g.log.Warn("disk has room again: writes are accepted", "dir", g.dir, "free_bytes", free)
		}
	}
}

func (g *diskGuard) watch() {
	defer close(g.done)
	t := time.NewTicker(diskPoll)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			g.check()
		}
	}
}

func (g *diskGuard) close() {
	close(g.stop)
	<-g.done
}

// refuse reports whether a commit must be refused now, counting it.
func (g *diskGuard) refuse() bool {
	if !g.full.Load() {
		return false
	}
	g.mu.Lock()
	g.refused++
	var n int
	if time.Since(g.reported) >= time.Minute {
		n, g.refused, g.reported = g.refused, 0, time.Now()
	}
	g.mu.Unlock()
	if n > 0 {
		g.log.Error("disk almost full: commits refused", "refused", n)
	}
	return true
}

// errDiskFull is the error of a refused commit of n writes.
func errDiskFull(n uint32) error {
	return fmt.Errorf("commit %d writes: %w", n, ErrDiskFull)
}
