package guest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
// idleFor is closed (reset and kept as its module's spare, when it can
// be: recycle.go), down to one. A burst of concurrent requests would
// otherwise leave as many instances, each with its memory, for as long
// as the worker is deployed.
type Pool struct {
	m       *Module
	log     *slog.Logger
	idleFor time.Duration // 0: idle instances are kept
	slots   chan struct{}
	size    int
	maxWait int // requests that may wait for a slot
	waiting atomic.Int64
	created atomic.Int64
	retired atomic.Int64

	mu     sync.Mutex
	idle   []idleInstance // guarded by mu: oldest first, most recently used last
	sweep  *time.Timer    // guarded by mu: armed while more than one is idle
	closed bool           // guarded by mu: Close ran
}

// idleInstance is an instance in the pool and when it was given back.
type idleInstance struct {
	inst  *Instance
	since time.Time
}

// NewPool returns an empty pool of at most size instances of m, whose
// output goes to log, for which at most maxWait requests wait, and which
// closes an instance idle for idleFor beyond the first (0: never).
func NewPool(m *Module, size, maxWait int, idleFor time.Duration, log *slog.Logger) *Pool {
	return &Pool{m: m, log: log, idleFor: idleFor, size: size, maxWait: maxWait, slots: make(chan struct{}, size)}
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
	if n := p.waiting.Add(1); p.maxWait >= 0 && n > int64(p.maxWait) {
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
	if p.closed || len(p.idle) >= p.size {
		p.mu.Unlock()
		inst.Close(ctx)
		return
	}
	p.idle = append(p.idle, idleInstance{inst, time.Now()})
	if len(p.idle) > 1 && p.sweep == nil && p.idleFor > 0 {
		p.sweep = time.AfterFunc(p.idleFor, p.retire)
	}
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

// retire closes the instances idle for idleFor, all but the most
// recently used, and arms the sweep again for the next while more than
// one is idle.
func (p *Pool) retire() {
	p.mu.Lock()
	now := time.Now()
	old := p.expired(now)
	retired := append([]idleInstance(nil), p.idle[:old]...)
	n := copy(p.idle, p.idle[old:])
	clear(p.idle[n:])
	p.idle = p.idle[:n]
	p.retired.Add(int64(len(retired))) // with the idle list, so that the two agree
	p.sweep = nil
	if !p.closed && len(p.idle) > 1 {
		p.sweep = time.AfterFunc(p.idle[0].since.Add(p.idleFor).Sub(now), p.retire)
	}
	p.mu.Unlock()
	for _, r := range retired {
		r.inst.Close(context.Background())
	}
}

// expired is how many of the oldest idle instances have been idle for
// idleFor at now, leaving at least one. The caller holds mu.
func (p *Pool) expired(now time.Time) int {
	n := 0
	for n < len(p.idle)-1 && now.Sub(p.idle[n].since) >= p.idleFor {
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

// Waiting reports how many requests wait for an instance.
func (p *Pool) Waiting() int64 { return p.waiting.Load() }

// Created reports how many instances the pool has made.
func (p *Pool) Created() int64 { return p.created.Load() }

// Close closes the idle instances; one given back after it is closed.
func (p *Pool) Close(ctx context.Context) {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	if p.sweep != nil {
		p.sweep.Stop()
		p.sweep = nil
	}
	p.mu.Unlock()
	for _, i := range idle {
		i.inst.Close(ctx)
	}
}
