package guest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Pool holds the instances that run a worker's fetch handler. The handler
// is stateless, so any idle instance serves any request; at most size
// requests run at once and the rest wait. It is safe for concurrent use.
//
// Idle instances are kept most recently used first, so that a steady load
// uses the same few and the rest of a burst's instances age: one idle for
// IdleFor is closed (reset and kept as its module's spare, when it can
// be: recycle.go), down to one, and one idle for TrimAfter is trimmed
// (Instance.Trim), as an idle object is. A burst of concurrent requests
// would otherwise leave as many instances, each with its memory, for as
// long as the worker is deployed, and an idle worker its instance's
// pages.
type Pool struct {
	m       *Module
	log     *slog.Logger
	opts    PoolOptions
	slots   chan struct{}
	waiting atomic.Int64
	created atomic.Int64
	retired atomic.Int64
	trimmed atomic.Int64

	mu      sync.Mutex
	idle    []idleInstance // guarded by mu: oldest first, most recently used last
	sweep   *time.Timer    // runs retire; armed while an idle instance will be due to be retired or trimmed
	sweepAt time.Time      // guarded by mu: when it will run (zero: not armed)
	closed  bool           // guarded by mu: Close ran
}

// PoolOptions are a Pool's bounds.
type PoolOptions struct {
	Size      int           // instances at most, busy or idle
	MaxWait   int           // requests that may wait for an instance (negative: no bound)
	IdleFor   time.Duration // an idle instance past the first is closed after this long (0: never)
	TrimAfter time.Duration // an idle instance is trimmed after this long (0: never)
}

// idleInstance is an instance in the pool, when it was given back, and
// whether it was trimmed since.
type idleInstance struct {
	inst    *Instance
	since   time.Time
	trimmed bool
}

// NewPool returns an empty pool of instances of m, whose output goes to
// log.
func NewPool(m *Module, o PoolOptions, log *slog.Logger) *Pool {
	p := &Pool{m: m, log: log, opts: o, slots: make(chan struct{}, o.Size)}
	p.sweep = time.AfterFunc(time.Hour, p.retire)
	p.sweep.Stop()
	return p
}

// ErrPoolBusy is the cause of a request that found every Worker instance
// busy and too many requests already waiting, or waited past its limit.
var ErrPoolBusy = errors.New("guest: every Worker instance is busy")

// Get returns an instance for one request: an idle one, or a new one. The
// caller gives it back with Done. When every instance is busy it waits,
// behind at most maxWait others, for at most the module's CPU limit: a
// worker whose instances all loop delays its own requests, boundedly,
// and holds no more of them.
func (p *Pool) Get(ctx context.Context) (*Instance, error) {
	select {
	case p.slots <- struct{}{}:
	default:
		if err := p.wait(ctx); err != nil {
			return nil, err
		}
	}
	if inst := p.take(); inst != nil {
		return inst, nil
	}
	inst, err := p.New(ctx)
	if err != nil {
		<-p.slots
		return nil, err
	}
	return inst, nil
}

// wait waits for a slot.
func (p *Pool) wait(ctx context.Context) error {
	if n := p.waiting.Add(1); p.opts.MaxWait >= 0 && n > int64(p.opts.MaxWait) {
		p.waiting.Add(-1)
		return fmt.Errorf("%w: %d requests already wait", ErrPoolBusy, n-1)
	}
	defer p.waiting.Add(-1)
	t := time.NewTimer(p.m.limits.CPU)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-t.C:
		return fmt.Errorf("%w: waited %s, the CPU limit", ErrPoolBusy, p.m.limits.CPU)
	case <-ctx.Done():
		return fmt.Errorf("waiting for a worker instance: %w", ctx.Err())
	case <-p.m.load.Stopping():
		return ErrStopping
	}
}

// New makes an instance for the pool without taking a slot; Put adds it.
func (p *Pool) New(ctx context.Context) (*Instance, error) {
	inst, err := p.m.Instantiate(ctx, p.log)
	if err == nil {
		p.created.Add(1)
	}
	return inst, err
}

// Done gives back an instance Get returned, closing it when it is broken
// (its call trapped).
func (p *Pool) Done(ctx context.Context, inst *Instance, broken bool) {
	if broken {
		inst.CloseTrapped(ctx)
	} else {
		p.Put(ctx, inst)
	}
	<-p.slots
}

// Put adds an idle instance, closing it if the pool is full or closed.
func (p *Pool) Put(ctx context.Context, inst *Instance) {
	p.mu.Lock()
	if p.closed || len(p.idle) >= p.opts.Size {
		p.mu.Unlock()
		inst.Close(ctx)
		return
	}
	now := time.Now()
	p.idle = append(p.idle, idleInstance{inst: inst, since: now})
	p.arm(now)
	p.mu.Unlock()
}

// take returns the most recently used idle instance, or nil.
func (p *Pool) take() *Instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.idle)
	if n == 0 {
		return nil
	}
	inst := p.idle[n-1].inst
	p.idle[n-1] = idleInstance{}
	p.idle = p.idle[:n-1]
	return inst
}

// arm sets the sweep for the next time an idle instance will be due to be
// retired or trimmed, if one will and the sweep is not set for earlier
// already. The caller holds mu.
func (p *Pool) arm(now time.Time) {
	var next time.Time
	due := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if p.opts.IdleFor > 0 && len(p.idle) > 1 {
		due(p.idle[0].since.Add(p.opts.IdleFor))
	}
	if p.opts.TrimAfter > 0 {
		for _, i := range p.idle {
			if !i.trimmed {
				due(i.since.Add(p.opts.TrimAfter))
				break // the oldest untrimmed is the first due
			}
		}
	}
	if next.IsZero() || p.closed || (!p.sweepAt.IsZero() && !next.Before(p.sweepAt)) {
		return
	}
	p.sweepAt = next
	p.sweep.Reset(next.Sub(now))
}

// retire closes the instances idle for IdleFor, all but the most recently
// used, trims those idle for TrimAfter, and arms the sweep again. An
// instance being trimmed is out of the list meanwhile: a request that
// finds none idle makes (or revives) another.
func (p *Pool) retire() {
	p.mu.Lock()
	now := time.Now()
	old := p.expired(now)
	retired := append([]idleInstance(nil), p.idle[:old]...)
	p.retired.Add(int64(old)) // with the idle list, so that the two agree
	var trim, keep []idleInstance
	for _, i := range p.idle[old:] {
		if p.opts.TrimAfter > 0 && !i.trimmed && now.Sub(i.since) >= p.opts.TrimAfter {
			trim = append(trim, i)
		} else {
			keep = append(keep, i)
		}
	}
	n := copy(p.idle, keep)
	clear(p.idle[n:])
	p.idle = p.idle[:n]
	p.sweepAt = time.Time{} // it ran
	if len(trim) == 0 {
		p.arm(now)
	}
	p.mu.Unlock()
	for _, r := range retired {
		r.inst.Close(context.Background())
	}
	if len(trim) == 0 {
		return
	}
	for i := range trim {
		trim[i].inst.Trim()
		trim[i].trimmed = true
	}
	p.trimmed.Add(int64(len(trim)))
	p.mu.Lock()
	var closing []idleInstance
	if p.closed {
		closing = trim
	} else {
		// Back in their places by the time they were given back: an
		// instance trimmed earlier that stayed may be older than they
		// are, and those given back while they were trimmed are newer.
		room := max(0, p.opts.Size-len(p.idle))
		if len(trim) > room {
			closing = trim[:len(trim)-room]
			trim = trim[len(trim)-room:]
		}
		p.idle = append(p.idle, trim...)
		slices.SortStableFunc(p.idle, func(a, b idleInstance) int { return a.since.Compare(b.since) })
		p.arm(time.Now())
	}
	p.mu.Unlock()
	for _, c := range closing {
		c.inst.Close(context.Background())
	}
}

// expired is how many of the oldest idle instances have been idle for
// IdleFor at now, leaving at least one. The caller holds mu.
func (p *Pool) expired(now time.Time) int {
	n := 0
	for p.opts.IdleFor > 0 && n < len(p.idle)-1 && now.Sub(p.idle[n].since) >= p.opts.IdleFor {
		n++
	}
	return n
}

// Idle reports how many instances are idle in the pool.
func (p *Pool) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

// Retired reports how many idle instances the pool has closed for being
// idle.
func (p *Pool) Retired() int64 { return p.retired.Load() }

// Trimmed reports how many times the pool has trimmed an idle instance.
func (p *Pool) Trimmed() int64 { return p.trimmed.Load() }

// Waiting reports how many requests wait for an instance.
func (p *Pool) Waiting() int64 { return p.waiting.Load() }

// Created reports how many instances the pool has made.
func (p *Pool) Created() int64 { return p.created.Load() }

// Close closes the idle instances; one given back after it is closed.
func (p *Pool) Close(ctx context.Context) {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.sweep.Stop()
	p.mu.Unlock()
	for _, i := range idle {
		i.inst.Close(ctx)
	}
}
