package objects

import (
	"context"
	"fmt"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/guest"
)

// Requests run in batches (batch.go): the requests that wait for a busy
// object — from clients through a Worker, and stub calls from other
// objects — run together in its next turn, with one commit, and each
// response leaves once its writes are durable. An object that many
// clients or objects call at once — a counter, a rate limiter, a
// document — pays one synced commit for many requests. A stub call from
// another object is checked for a cycle before it waits (Deliver): its
// caller, waiting, is recorded as waiting on the object, whichever
// request's goroutine then runs the batch.

// deliverBatched runs d on o in a batch of the requests that wait beside
// it, waiting for o's turn until d.Deadline, behind at most the
// namespace's queue limit of others; ran reports whether it ran.
func (r *Registry) deliverBatched(ctx context.Context, o *object, d Delivery) (resp []byte, code abi.Code, ran bool, err error) {
	if limit := o.ns.version().Limits.Queue; int(o.waiters.Add(1)) > limit+1 {
		o.waiters.Add(-1)
		return nil, abi.Overloaded, false, fmt.Errorf("object %s: %d requests are already queued (max_queue)", o.id, limit)
	}
	defer o.waiters.Add(-1)
	p := newPending(ctx, d.Request, d.From)
	p.name, p.hasName = d.Name, d.HasName
	if !r.combine(o, &o.fetches, p, guest.ObjectFetch, "fetch", d.Deadline) {
		select {
		case <-r.o.Load.Stopping():
			return nil, abi.Overloaded, false, fmt.Errorf("object %s: %w", o.id, guest.ErrStopping)
		default:
		}
		cause := ctx.Err()
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		return nil, abi.Timeout, false, fmt.Errorf("object %s: gave up waiting for its turn: %w", o.id, cause)
	}
	return p.resp, p.code, true, p.err
}
