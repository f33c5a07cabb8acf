package guest

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
)

// Pool holds the instances that run a worker's fetch handler. The handler
// is stateless, so any idle instance serves any request; at most size
// requests run at once and the rest wait. It is safe for concurrent use.
type Pool struct {
	m       *Module
	log     *slog.Logger
	idle    chan *Instance
	slots   chan struct{}
	created atomic.Int64
}

// NewPool returns an empty pool of at most size instances of m, whose
// output goes to log.
func NewPool(m *Module, size int, log *slog.Logger) *Pool {
	return &Pool{m: m, log: log, idle: make(chan *Instance, size), slots: make(chan struct{}, size)}
}

// Get returns an instance for one request: an idle one, or a new one. The
// caller gives it back with Done.
func (p *Pool) Get(ctx context.Context) (*Instance, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a worker instance: %w", ctx.Err())
	case <-p.m.load.Stopping():
		return nil, ErrStopping
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
		inst.Close(ctx)
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
