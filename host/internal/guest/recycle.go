package guest

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/dohost/dohost/host/internal/quota"
)

// Recycling: an instance of a snapshotted module that is closed — its
// object evicted, or trapped — is reset to the snapshot's state and kept
// as a spare; the module's next instance is a spare brought back rather
// than a new one. That skips what making an instance costs besides the
// guest's own constructor: wazero setting up its tables (for a Go guest,
// an allocated function reference for each of thousands of table
// elements, about a quarter of a new Go object's CPU), and mapping and
// unmapping its memory.
//
// Reset is exact, because a snapshotted module's state after its
// initializer is its memory and its mutable globals and nothing else
// (wasmbin.Prepare refuses a snapshot to code that changes tables or
// drops segments): the memory's pages are dropped, which gives a
// mapped image's pages back their image content and an anonymous
// memory's zeros (a copied image is written again), and the globals are
// set from the snapshot when the spare is revived. An instance whose
// memory grew past the snapshot's size is not kept (wazero cannot shrink
// a memory), nor one wazero closed (proc_exit).
//
// A spare holds no memory pages of its own and is charged to no budget;
// it costs its wazero instance on the Go heap (about 170 KB for a Go
// guest), so a module keeps at most maxSpares and the host maxHostSpares.
type spares struct {
	mu     sync.Mutex
	list   []*Instance
	closed bool // the module is closed: no more spares
}

const (
	maxSpares     = 16
	maxHostSpares = 256
)

var (
	hostSpares atomic.Int64 // spares held by every module
	recycled   atomic.Int64 // instances revived from spares
)

// Recycled is the number of instances made by reviving a spare, since the
// process started.
func Recycled() int64 { return recycled.Load() }

// keep resets i and keeps it as a spare, reporting whether it did; when
// it did not, the caller closes i.
func (m *Module) keep(i *Instance) bool {
	if m.snap == nil || i.mod.IsClosed() || i.mem == nil || i.mem.size != uint64(m.snap.pages)*65536 {
		return false
	}
	s := &m.spares
	s.mu.Lock()
	room := !s.closed && len(s.list) < maxSpares && hostSpares.Load() < maxHostSpares
	s.mu.Unlock()
	if !room || !i.mem.reset() {
		return false
	}
	i.stdout.reset()
	i.stderr.reset()
	if m.tenant != nil {
		m.tenant.Memory.Give(i.tables)
	}
	i.tables = 0
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.list) >= maxSpares {
		return false
	}
	if hostSpares.Add(1) > maxHostSpares {
		hostSpares.Add(-1)
		return false
	}
	s.list = append(s.list, i)
	return true
}

// spare takes one of the module's spares, or returns nil.
func (m *Module) spare() *Instance {
	s := &m.spares
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.list)
	if n == 0 {
		return nil
	}
	i := s.list[n-1]
	s.list[n-1] = nil
	s.list = s.list[:n-1]
	hostSpares.Add(-1)
	return i
}

// closeSpares closes the module's spares and keeps no more.
func (m *Module) closeSpares(ctx context.Context) {
	s := &m.spares
	s.mu.Lock()
	list := s.list
	s.list, s.closed = nil, true
	s.mu.Unlock()
	hostSpares.Add(-int64(len(list)))
	for _, i := range list {
		i.closeNow(ctx)
	}
}

// revive makes the spare i the new instance whose output goes to log:
// its tables and memory charged to budget again, its pages prefaulted and
// its globals set from the snapshot. On an error i is closed.
func (i *Instance) revive(ctx context.Context, log *slog.Logger, budget quota.Pair, tables int64) error {
	if err := budget.Take(tables); err != nil {
		i.closeNow(ctx)
		return err
	}
	i.tables = tables
	if err := i.mem.charge(i.mem.size); err != nil {
		i.closeNow(ctx)
		return err
	}
	i.mem.start(i.mem.size)
	i.stdout.retarget(log)
	i.stderr.retarget(log)
	if err := i.m.snap.restore(i.mod); err != nil {
		i.closeNow(ctx)
		return err
	}
	recycled.Add(1)
	return nil
}
