package guest

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
// guest), so a module keeps at most maxSpares and the host maxHostSpares,
// and a spare that no new instance took for a while is closed
// (TrimSpares): a host whose objects stopped coming gives that back.
type spares struct {
	mu     sync.Mutex
	list   []*Instance // oldest first; the newest is taken first
	closed bool        // the module is closed: no more spares
}

// withSpares is the modules that hold spares, for TrimSpares. Lock order:
// a module's spares.mu, then withSpares.mu.
var withSpares struct {
	mu sync.Mutex
	m  map[*Module]struct{}
}

// listed records whether m holds spares. The caller holds m.spares.mu.
func (m *Module) listed(has bool) {
	withSpares.mu.Lock()
	defer withSpares.mu.Unlock()
	if !has {
		delete(withSpares.m, m)
		return
	}
	if withSpares.m == nil {
		withSpares.m = map[*Module]struct{}{}
	}
	withSpares.m[m] = struct{}{}
}

// TrimSpares closes the spares, of every module, kept for idle or longer,
// and returns how many it closed. The host calls it as it sweeps for idle
// objects, with their idle timeout.
func TrimSpares(ctx context.Context, idle time.Duration) int {
	withSpares.mu.Lock()
	mods := make([]*Module, 0, len(withSpares.m))
	for m := range withSpares.m {
		mods = append(mods, m)
	}
	withSpares.mu.Unlock()
	cutoff, n := time.Now().Add(-idle), 0
	for _, m := range mods {
		n += m.trimSpares(ctx, cutoff)
	}
	return n
}

// trimSpares closes m's spares kept before cutoff.
func (m *Module) trimSpares(ctx context.Context, cutoff time.Time) int {
	s := &m.spares
	s.mu.Lock()
	k := 0
	for k < len(s.list) && !s.list[k].kept.After(cutoff) {
		k++
	}
	old := slices.Clone(s.list[:k])
	n := copy(s.list, s.list[k:])
	clear(s.list[n:])
	s.list = s.list[:n]
	if n == 0 {
		m.listed(false)
	}
	s.mu.Unlock()
	hostSpares.Add(-int64(k))
	for _, i := range old {
		i.closeNow(ctx)
	}
	return k
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
	i.kept = time.Now()
	s.list = append(s.list, i)
	if len(s.list) == 1 {
		m.listed(true)
	}
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
	if n == 1 {
		m.listed(false)
	}
	hostSpares.Add(-1)
	return i
}

// closeSpares closes the module's spares and keeps no more.
func (m *Module) closeSpares(ctx context.Context) {
	s := &m.spares
	s.mu.Lock()
	list := s.list
	s.list, s.closed = nil, true
	m.listed(false)
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
