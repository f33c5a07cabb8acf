package guest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Pool holds the instances that run a worker's fetch handler. The handler
// is stateless, so any idle instance serves any request; at most size
// requests run at once and the rest wait. It is safe for concurrent use.
type Pool struct {
	m       *Module
	log     *slog.Logger
	idle    chan *Instance
	slots   chan struct{}
	maxWait int // requests that may wait for a slot
	waiting atomic.Int64
	created atomic.Int64
}

// NewPool returns an empty pool of at most size instances of m, whose
// output goes to log, for which at most maxWait requests wait.
func NewPool(m *Module, size, maxWait int, log *slog.Logger) *Pool {
	return &Pool{m: m, log: log, maxWait: maxWait, idle: make(chan *Instance, size), slots: make(chan struct{}, size)}
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
	select {
	case inst := <-p.idle:
		return inst, nil
	default:
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

// Put adds an idle instance, closing it if the pool is full.
func (p *Pool) Put(ctx context.Context, inst *Instance) {
	select {
	case p.idle <- inst:
	default:
		inst.Close(ctx)
	}
}

// Waiting reports how many requests wait for an instance.
func (p *Pool) Waiting() int64 { return p.waiting.Load() }

// Created reports how many instances the pool has made.
func (p *Pool) Created() int64 { return p.created.Load() }

// Close closes the idle instances.
func (p *Pool) Close(ctx context.Context) {
	for {
		select {
		case inst := <-p.idle:
			inst.Close(ctx)
		default:
			return
		}
	}
}
