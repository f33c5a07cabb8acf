package host

import (
	"context"
	"fmt"
)

// pool holds the instances that run an app's Worker fetch handler. The
// handler is stateless, so any idle instance serves any request; at most
// cap requests run at once and the rest wait.
type pool struct {
	a     *app
	idle  chan *instance
	slots chan struct{}
}

func newPool(a *app, n int) *pool {
	return &pool{a: a, idle: make(chan *instance, n), slots: make(chan struct{}, n)}
}

// get returns an instance for one request; the caller gives it back with done.
func (p *pool) get(ctx context.Context) (*instance, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a worker instance: %w", ctx.Err())
	}
	select {
	case inst := <-p.idle:
		return inst, nil
	default:
	}
	inst, err := p.a.newInstance(ctx, nil)
	if err != nil {
		<-p.slots
		return nil, err
	}
	return inst, nil
}

// done returns inst to the pool, or closes it when it is broken.
func (p *pool) done(ctx context.Context, inst *instance, broken bool) {
	if broken {
		inst.close(ctx)
	} else {
		p.put(ctx, inst)
	}
	<-p.slots
}

// put adds an idle instance, closing it if the pool is full.
func (p *pool) put(ctx context.Context, inst *instance) {
	select {
	case p.idle <- inst:
	default:
		inst.close(ctx)
	}
}

func (p *pool) close(ctx context.Context) {
	for {
		select {
		case inst := <-p.idle:
			inst.close(ctx)
		default:
			return
		}
	}
}
